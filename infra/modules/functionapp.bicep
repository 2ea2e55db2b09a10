// The Azure Functions option (hosting: 'functions'): the application as a .NET 10 isolated Functions app on Flex
// Consumption (functions/FunctionsHost, deployed as a zip). main.bicep deploys it twice, like the Container Apps
// option: the public API (operator paths answer 404 there) and the bank staff's operations app, which takes no traffic
// from the internet in prod (private endpoint only). Each has a Flex Consumption plan of its own (one app per plan).
// Both run as the app's user-assigned identity: storage (AzureWebJobsStorage, the wake-up queue trigger), the
// deployment package and the Key Vault references all authenticate with it; no storage key anywhere.

@description('Azure region.')
param location string

@description('Function app name.')
param appName string

@description('The operations app (operator endpoints on; private in prod) rather than the public API.')
param operations bool

@description('Resource id of the user-assigned identity the apps run as.')
param identityId string

@description('Client id of that identity (AZURE_CLIENT_ID, and the identity of AzureWebJobsStorage).')
param identityClientId string

@description('Operational storage account (tables, queues, operational containers, and the deployment packages).')
param storageAccountName string

@description('Blob endpoint of the archive account.')
param archiveBlobEndpoint string

@description('Key Vault URI the app reads its keys from.')
param keyVaultUri string

@description('Key Vault reference of the Application Insights connection string.')
param telemetrySecretUri string

@description('ASPNETCORE_ENVIRONMENT (the app\'s environment; the Functions host has its own).')
param aspNetCoreEnvironment string

@description('Signatures:TrustAnchorsPath: empty uses the anchors uploaded through the operations API.')
param trustAnchorsPath string = ''

@description('Signatures:CrlPath: empty uses the CRLs uploaded through the operations API.')
param crlPath string = ''

@description('Signatures:CrlUrls: the CRLs (base and delta) the crl-refresh job keeps current.')
param crlUrls array = []

@description('Signatures:OcspUrl: the OCSP responder asked before the CRLs; empty for none.')
param ocspUrl string = ''

@description('Always-ready instances for HTTP (0 lets the app scale to zero; prod keeps the public app 1 warm).')
@minValue(0)
@maxValue(10)
param alwaysReady int

@description('Most instances of each app (Flex Consumption: 40 to 1000).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory of each instance in MB (Flex Consumption: 512, 2048 or 4096).')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Subnet the apps reach storage and Key Vault through (VNet integration, delegated to Microsoft.App/environments); empty for none (dev).')
param integrationSubnetId string = ''

@description('prod: the operations app takes traffic only through a private endpoint, and both apps reach storage and Key Vault through the network.')
param privateNetworking bool

@description('Subnet of the private endpoints (the operations app\'s inbound endpoint); empty for none (dev).')
param endpointsSubnetId string = ''

@description('Private DNS zone of privatelink.azurewebsites.net; empty for none (dev).')
param sitesZoneId string = ''

@description('Operators:Authority: the bank\'s OpenID Connect issuer for staff tokens.')
param operatorsAuthority string

@description('Operators:Audience: the Application ID URI (or client id) of the Entra app registration that carries the ops.* roles.')
param operatorsAudience string

@description('Tags applied to every resource.')
param tags object

// The deployment package lives in the operational account, beside the app's own containers, read with the identity.
var packageContainer = operations ? 'app-package-ops' : 'app-package'
var privateOperations = operations && privateNetworking

var crlUrlSettings = [for (url, i) in crlUrls: {
  name: 'Signatures__CrlUrls__${i}'
  value: url
}]

// What both apps run with: local.settings.sample.json keys in their environment-variable form, then Azure-only settings.
// (FUNCTIONS_WORKER_RUNTIME is the plan's runtime below: Flex Consumption takes it from functionAppConfig, not a setting.)
var sharedSettings = [
  // local.settings.sample.json keys: identity-based AzureWebJobsStorage, as the Functions host and the app both read it
  {
    name: 'AzureWebJobsStorage__accountName'
    value: storageAccountName
  }
  {
    name: 'AzureWebJobsStorage__credential'
    value: 'managedidentity'
  }
  {
    name: 'AzureWebJobsStorage__clientId'
    value: identityClientId
  }
  {
    name: 'KeyVault__Uri'
    value: keyVaultUri
  }
  {
    name: 'Storage__TablePrefix'
    value: ''
  }
  {
    name: 'Signatures__TrustAnchorsPath'
    value: trustAnchorsPath
  }
  {
    name: 'Signatures__CrlPath'
    value: crlPath
  }
  {
    name: 'Signatures__OcspUrl'
    value: ocspUrl
  }
  {
    name: 'Sandbox__AcceptTestIdentifiers'
    value: 'false'
  }
  {
    name: 'ASPNETCORE_ENVIRONMENT'
    value: aspNetCoreEnvironment
  }
  // Azure-only settings
  {
    name: 'ArchiveStorage__blobServiceUri'
    value: archiveBlobEndpoint
  }
  {
    name: 'AZURE_CLIENT_ID'
    value: identityClientId
  }
  {
    // Key Vault reference, resolved by the platform with the identity (keyVaultReferenceIdentity)
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: '@Microsoft.KeyVault(SecretUri=${telemetrySecretUri})'
  }
  {
    name: 'Operators__Authority'
    value: operatorsAuthority
  }
  {
    name: 'Operators__Audience'
    value: operatorsAudience
  }
  {
    name: 'Operators__RequireHttpsMetadata'
    value: 'true'
  }
  {
    name: 'Operations__FourEyes'
    value: 'true'
  }
  {
    name: 'Operations__AllowStaticKeys'
    value: 'false'
  }
  {
    // The Functions front end sets X-Forwarded-For; the worker's pipeline has applied it before the app sees the request.
    name: 'Http__TrustForwardedHeaders'
    value: 'false'
  }
]

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' existing = {
  parent: storage
  name: 'default'
}

resource package 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: blobService
  name: packageContainer
  properties: {
    publicAccess: 'None'
  }
}

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: 'plan-${appName}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2025-03-01' = {
  name: appName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  dependsOn: [
    package
  ]
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    publicNetworkAccess: privateOperations ? 'Disabled' : 'Enabled'
    keyVaultReferenceIdentity: identityId
    virtualNetworkSubnetId: empty(integrationSubnetId) ? null : integrationSubnetId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${packageContainer}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        alwaysReady: alwaysReady > 0
          ? [
              {
                name: 'http'
                instanceCount: alwaysReady
              }
            ]
          : []
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: concat(sharedSettings, crlUrlSettings, [
        {
          name: 'Operations__Endpoints'
          value: string(operations)
        }
      ])
    }
  }
}

// prod: the operations app is reached only through its private endpoint, from inside the network.
resource operationsEndpoint 'Microsoft.Network/privateEndpoints@2025-05-01' = if (privateOperations) {
  name: 'pe-${appName}'
  location: location
  tags: tags
  properties: {
    subnet: {
      id: endpointsSubnetId
    }
    privateLinkServiceConnections: [
      {
        name: 'sites'
        properties: {
          privateLinkServiceId: site.id
          groupIds: [
            'sites'
          ]
        }
      }
    ]
  }
}

resource operationsZoneGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2025-05-01' = if (privateOperations) {
  parent: operationsEndpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: 'sites'
        properties: {
          privateDnsZoneId: sitesZoneId
        }
      }
    ]
  }
}

@description('HTTPS address of the app.')
output url string = 'https://${site.properties.defaultHostName}'

@description('Name of the function app, for az functionapp deployment.')
output name string = site.name
