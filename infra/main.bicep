// The Business API in Azure: Container Apps running the app as a user-assigned managed identity,
// an operational storage account, a separate WORM archive account (5 years, locked), Key Vault,
// Log Analytics and Application Insights. Parameters per environment: main.dev.bicepparam and
// main.prod.bicepparam. Deploy with the commands in infra/README.md.

targetScope = 'resourceGroup'

@description('dev scales to zero and accepts shared keys; prod keeps a warm replica and accepts Entra ID tokens only.')
@allowed([
  'dev'
  'prod'
])
param environmentName string

@description('Azure region of every resource.')
param location string = resourceGroup().location

@description('Where the app runs: Azure Container Apps (the container image) or Azure Functions on Flex Consumption (functions/FunctionsHost as a zip). The same identity, roles, Key Vault, archive account and private networking either way.')
@allowed([
  'containerApps'
  'functions'
])
param hosting string = 'containerApps'

@description('Lowercase letters that start every resource name.')
@minLength(2)
@maxLength(8)
param namePrefix string = 'bizapi'

@description('Container image to run, e.g. contoso.azurecr.io/business-api:2026.11.26.')
param containerImage string

@description('Registry the image is pulled from with the app identity (grant it AcrPull there first); empty for a public image.')
param registryServer string = ''

@description('Minimum replicas, overriding the environment\'s (0 in dev: scale to zero; 1 in prod).')
@minValue(0)
@maxValue(10)
param minReplicas int?

@description('Maximum replicas, overriding the environment\'s.')
@minValue(1)
@maxValue(100)
param maxReplicas int?

@description('Archive retention in days: 5 years (R-39), counted so that two leap days still leave five full years.')
@minValue(1827)
param archiveRetentionDays int = 1827

@description('Unlocked on an environment\'s first deployment only (Azure creates the policy unlocked); Locked afterwards, for good.')
@allowed([
  'Unlocked'
  'Locked'
])
param archivePolicyState string = 'Locked'

@description('false deploys everything but the Container App: the first deployment, before AcrPull and the vault\'s secrets exist.')
param deployApp bool = true

@description('Signatures:TrustAnchorsPath inside the container; empty uses the anchors uploaded through the operations API.')
param trustAnchorsPath string = ''

@description('Signatures:CrlPath inside the container; empty uses the CRLs uploaded through the operations API.')
param crlPath string = ''

@description('Signatures:CrlUrls: NCA RK\'s CRLs, base and delta, of the RSA and GOST 2022 generations (a sandbox points these at NCA\'s test CRLs).')
param crlUrls array = [
  'http://crl.pki.gov.kz/nca_rsa_2022.crl'
  'http://crl.pki.gov.kz/nca_rsa_2022_d.crl'
  'http://crl.pki.gov.kz/nca_gost_2022.crl'
  'http://crl.pki.gov.kz/nca_gost_2022_d.crl'
]

@description('Signatures:OcspUrl: NCA RK\'s OCSP responder, asked before the CRLs; empty for none.')
param ocspUrl string = 'http://ocsp.pki.gov.kz'

@description('Operators:Authority: the OpenID Connect issuer of bank staff tokens, e.g. https://login.microsoftonline.com/{tenant-id}/v2.0.')
param operatorsAuthority string

@description('Operators:Audience: the Application ID URI of the Entra app registration carrying the ops.* app roles (entra-app-roles.json).')
param operatorsAudience string

@description('Address space of the private network (prod): a /23 for the Container Apps environment and a /24 for private endpoints are cut from it.')
param networkAddressPrefix string = '10.40.0.0/16'

@description('Tags applied to every resource.')
param tags object = {}

// What differs between environments, in one place (a test reads these values from the compiled ARM JSON).
var settings = {
  dev: {
    minReplicas: 0
    maxReplicas: 3
    allowSharedKeyAccess: true
    storageSku: 'Standard_LRS'
    archiveSku: 'Standard_LRS'
    softDeleteDays: 7
    logRetentionDays: 30
    aspNetCoreEnvironment: 'Staging'
    privateNetworking: false
  }
  prod: {
    minReplicas: 1
    maxReplicas: 10
    allowSharedKeyAccess: false
    storageSku: 'Standard_ZRS'
    archiveSku: 'Standard_RAGZRS'
    softDeleteDays: 30
    logRetentionDays: 365
    aspNetCoreEnvironment: 'Production'
    privateNetworking: true
  }
}
var config = settings[environmentName]
var suffix = uniqueString(subscription().id, resourceGroup().id, namePrefix, environmentName)
var allTags = union(tags, {
  application: 'business-api'
  environment: environmentName
})

// Physical names of what the app uses (Storage:TablePrefix is empty in Azure). A test compares these
// lists with the resources the app registers, so a new table cannot be forgotten here.
var tables = [
  'Approvals'
  'AuditJournal'
  'BankCalendar'
  'CertificateBlocks'
  'Credentials'
  'CredentialsDue'
  'CustomerAccounts'
  'CustomerBins'
  'Customers'
  'DocumentAlerts'
  'Documents'
  'DocumentsDue'
  'ErrorReports'
  'ExchangeRates'
  'FeeDebts'
  'IdempotencyExpiry'
  'IdempotencyKeys'
  'Ledger'
  'LedgerOutbox'
  'Maintenance'
  'NoticeAlerts'
  'Notices'
  'NoticesDue'
  'PenaltyClaims'
  'PowerTerms'
  'SecurityIncidents'
  'Sessions'
  'Tariffs'
  'TimerState'
  'UserLogins'
  'Users'
  'UsersDue'
  'WorkflowDue'
  'WorkflowFaults'
]
var wakeupQueue = 'wakeups'
var operationalContainers = [
  'timerleases'
  'trust'
  'settlement-outbox'
]
var archiveContainer = 'archive'
var storageAccountName = take('st${namePrefix}${environmentName}${suffix}', 24)
var identityName = 'id-${namePrefix}-${environmentName}'
var publicNetworkAccess = config.privateNetworking ? 'Disabled' : 'Enabled'
var workspaceName = 'log-${namePrefix}-${environmentName}'
var appInsightsName = 'appi-${namePrefix}-${environmentName}'

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    location: location
    name: identityName
    tags: allTags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    workspaceName: workspaceName
    appInsightsName: appInsightsName
    retentionInDays: config.logRetentionDays
    tags: allTags
  }
}

// prod: storage and Key Vault are closed to the public network; the apps reach them through private endpoints.
module network 'modules/network.bicep' = if (config.privateNetworking) {
  name: 'network'
  params: {
    location: location
    name: 'vnet-${namePrefix}-${environmentName}'
    addressPrefix: networkAddressPrefix
    appsSubnetPrefix: cidrSubnet(networkAddressPrefix, 23, 0)
    endpointsSubnetPrefix: cidrSubnet(networkAddressPrefix, 24, 2)
    tags: allTags
  }
}

module storageEndpoints 'modules/privateendpoint.bicep' = [
  for service in ['blob', 'table', 'queue']: if (config.privateNetworking) {
    name: 'pe-storage-${service}'
    params: {
      location: location
      name: 'pe-${namePrefix}-${environmentName}-storage-${service}'
      targetId: storage.outputs.id
      groupId: service
      subnetId: network.?outputs.endpointsSubnetId ?? ''
      zoneId: network.?outputs.zoneIds[service] ?? ''
      tags: allTags
    }
  }
]

module archiveEndpoint 'modules/privateendpoint.bicep' = if (config.privateNetworking) {
  name: 'pe-archive-blob'
  params: {
    location: location
    name: 'pe-${namePrefix}-${environmentName}-archive-blob'
    targetId: archive.outputs.id
    groupId: 'blob'
    subnetId: network.?outputs.endpointsSubnetId ?? ''
    zoneId: network.?outputs.zoneIds.blob ?? ''
    tags: allTags
  }
}

module vaultEndpoint 'modules/privateendpoint.bicep' = if (config.privateNetworking) {
  name: 'pe-vault'
  params: {
    location: location
    name: 'pe-${namePrefix}-${environmentName}-vault'
    targetId: keyVault.outputs.id
    groupId: 'vault'
    subnetId: network.?outputs.endpointsSubnetId ?? ''
    zoneId: network.?outputs.zoneIds.vault ?? ''
    tags: allTags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  dependsOn: [
    identity
  ]
  params: {
    location: location
    name: storageAccountName
    allowSharedKeyAccess: config.allowSharedKeyAccess
    skuName: config.storageSku
    tables: tables
    queues: [
      wakeupQueue
    ]
    containers: operationalContainers
    softDeleteDays: config.softDeleteDays
    identityName: identityName
    publicNetworkAccess: publicNetworkAccess
    tags: allTags
  }
}

module archive 'modules/archive.bicep' = {
  name: 'archive'
  dependsOn: [
    identity
  ]
  params: {
    location: location
    name: take('arc${namePrefix}${environmentName}${suffix}', 24)
    allowSharedKeyAccess: config.allowSharedKeyAccess
    skuName: config.archiveSku
    containerName: archiveContainer
    retentionDays: archiveRetentionDays
    policyState: archivePolicyState
    softDeleteDays: config.softDeleteDays
    identityName: identityName
    publicNetworkAccess: publicNetworkAccess
    tags: allTags
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  dependsOn: [
    identity
    monitoring
  ]
  params: {
    location: location
    name: take('kv-${namePrefix}-${environmentName}-${suffix}', 24)
    identityName: identityName
    appInsightsName: appInsightsName
    publicNetworkAccess: publicNetworkAccess
    tags: allTags
  }
}

module app 'modules/containerapp.bicep' = if (deployApp && hosting == 'containerApps') {
  name: 'containerapp'
  dependsOn: [
    monitoring
  ]
  params: {
    location: location
    environmentName: 'cae-${namePrefix}-${environmentName}'
    appName: 'ca-${namePrefix}-${environmentName}'
    image: containerImage
    registryServer: registryServer
    workspaceName: workspaceName
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    archiveBlobEndpoint: archive.outputs.blobEndpoint
    keyVaultUri: keyVault.outputs.uri
    telemetrySecretUri: keyVault.outputs.telemetrySecretUri
    wakeupQueueName: wakeupQueue
    aspNetCoreEnvironment: config.aspNetCoreEnvironment
    trustAnchorsPath: trustAnchorsPath
    crlPath: crlPath
    crlUrls: crlUrls
    ocspUrl: ocspUrl
    minReplicas: minReplicas ?? config.minReplicas
    maxReplicas: maxReplicas ?? config.maxReplicas
    infrastructureSubnetId: network.?outputs.appsSubnetId ?? ''
    operatorsAuthority: operatorsAuthority
    operatorsAudience: operatorsAudience
    tags: allTags
  }
}

// hosting 'functions': the same two apps as Azure Functions on Flex Consumption (modules/functionapp.bicep).
var functionAppName = 'func-${namePrefix}-${environmentName}-${take(suffix, 6)}'

module functionsApi 'modules/functionapp.bicep' = if (deployApp && hosting == 'functions') {
  name: 'functionapp'
  dependsOn: [
    monitoring
    storage
  ]
  params: {
    appName: functionAppName
    operations: false
    alwaysReady: minReplicas ?? config.minReplicas
    location: location
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storageAccountName
    archiveBlobEndpoint: archive.outputs.blobEndpoint
    keyVaultUri: keyVault.outputs.uri
    telemetrySecretUri: keyVault.outputs.telemetrySecretUri
    aspNetCoreEnvironment: config.aspNetCoreEnvironment
    trustAnchorsPath: trustAnchorsPath
    crlPath: crlPath
    crlUrls: crlUrls
    ocspUrl: ocspUrl
    privateNetworking: config.privateNetworking
    integrationSubnetId: network.?outputs.appsSubnetId ?? ''
    endpointsSubnetId: network.?outputs.endpointsSubnetId ?? ''
    sitesZoneId: network.?outputs.zoneIds.sites ?? ''
    operatorsAuthority: operatorsAuthority
    operatorsAudience: operatorsAudience
    tags: allTags
  }
}

module functionsOps 'modules/functionapp.bicep' = if (deployApp && hosting == 'functions') {
  name: 'functionapp-ops'
  dependsOn: [
    monitoring
    storage
  ]
  params: {
    appName: '${functionAppName}-ops'
    operations: true
    alwaysReady: 0
    location: location
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storageAccountName
    archiveBlobEndpoint: archive.outputs.blobEndpoint
    keyVaultUri: keyVault.outputs.uri
    telemetrySecretUri: keyVault.outputs.telemetrySecretUri
    aspNetCoreEnvironment: config.aspNetCoreEnvironment
    trustAnchorsPath: trustAnchorsPath
    crlPath: crlPath
    crlUrls: crlUrls
    ocspUrl: ocspUrl
    privateNetworking: config.privateNetworking
    integrationSubnetId: network.?outputs.appsSubnetId ?? ''
    endpointsSubnetId: network.?outputs.endpointsSubnetId ?? ''
    sitesZoneId: network.?outputs.zoneIds.sites ?? ''
    operatorsAuthority: operatorsAuthority
    operatorsAudience: operatorsAudience
    tags: allTags
  }
}

@description('Public HTTPS address of the API (empty while deployApp is false).')
output apiUrl string = app.?outputs.?url ?? functionsApi.?outputs.?url ?? ''

@description('Internal address of the operations app, for bank staff inside the network (empty while deployApp is false).')
output opsUrl string = app.?outputs.?opsUrl ?? functionsOps.?outputs.?url ?? ''

@description('The function apps to deploy the zip to (public, operations); empty unless hosting is functions.')
output functionAppNames string[] = hosting == 'functions' && deployApp ? [functionsApi.?outputs.?name ?? '', functionsOps.?outputs.?name ?? ''] : []

@description('The app roles to give the Entra app registration of the API (Operators:Audience); its manifest\'s appRoles.')
output operatorAppRoles array = loadJsonContent('entra-app-roles.json')

@description('Key Vault to put the app\'s secrets in (infra/README.md lists them).')
output keyVaultName string = keyVault.outputs.name

@description('Operational storage account.')
output storageAccountName string = storage.outputs.name

@description('Archive storage account (WORM).')
output archiveAccountName string = archive.outputs.name

@description('Client id of the app identity.')
output identityClientId string = identity.outputs.clientId

@description('Object id of the app identity (grant it AcrPull on your registry).')
output identityPrincipalId string = identity.outputs.principalId

@description('Secrets the app reads from Key Vault; set each before the first start.')
output requiredSecrets string[] = [
  'operations-api-keys'
  'access-token-signing-key'
  'credential-secret-key'
  'webhook-signing-key'
]
