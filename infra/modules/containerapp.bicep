// The Container Apps environment and two apps of the same image: the public API (external HTTPS
// ingress; operator paths answer 404 there) and the bank staff's operations app (internal ingress,
// reachable only from inside the environment's network, e.g. over the bank's VPN or ExpressRoute).
// Health probes, scale to zero in dev (one warm replica in prod), scaling on HTTP concurrency and on
// the wake-up queue that durable timers fill while no replica runs.

@description('Azure region.')
param location string

@description('Container Apps environment name.')
param environmentName string

@description('Public Container App name; the operations app is this name with -ops.')
param appName string

@description('Image to run, e.g. contoso.azurecr.io/business-api:2026.11.26.')
param image string

@description('Registry the image is pulled from with the app identity (AcrPull); empty for a public image.')
param registryServer string

@description('Log Analytics workspace name (the environment\'s console and system logs).')
param workspaceName string

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Client id of that identity (AZURE_CLIENT_ID for DefaultAzureCredential).')
param identityClientId string

@description('Operational storage account (tables, queues, operational containers).')
param storageAccountName string

@description('Blob endpoint of the archive account.')
param archiveBlobEndpoint string

@description('Key Vault URI the app reads its keys from.')
param keyVaultUri string

@description('Key Vault reference of the Application Insights connection string.')
param telemetrySecretUri string

@description('Queue whose visible messages wake the app at durable-timer due times.')
param wakeupQueueName string

@description('ASPNETCORE_ENVIRONMENT.')
param aspNetCoreEnvironment string

@description('Signatures:TrustAnchorsPath: empty uses the anchors uploaded through the operations API.')
param trustAnchorsPath string = ''

@description('Signatures:CrlPath: empty uses the CRLs uploaded through the operations API.')
param crlPath string = ''

@description('Signatures:CrlUrls: the CRLs (base and delta) the crl-refresh job keeps current.')
param crlUrls array = []

@description('Signatures:OcspUrl: the OCSP responder asked before the CRLs; empty for none.')
param ocspUrl string = ''

@description('Minimum replicas: 0 lets dev scale to zero; prod keeps 1 warm.')
@minValue(0)
@maxValue(10)
param minReplicas int

@description('Maximum replicas.')
@minValue(1)
@maxValue(100)
param maxReplicas int

@description('Concurrent requests per replica before another is added.')
@minValue(1)
param httpConcurrency int = 50

@description('CPU cores per replica.')
param cpu string = '0.5'

@description('Memory per replica.')
param memory string = '1Gi'

@description('Subnet of the environment (VNet injection); empty leaves the environment on the platform network (dev).')
param infrastructureSubnetId string = ''

@description('Operators:Authority: the bank\'s OpenID Connect issuer for staff tokens, e.g. https://login.microsoftonline.com/{tenant}/v2.0.')
param operatorsAuthority string

@description('Operators:Audience: the Application ID URI (or client id) of the Entra app registration that carries the ops.* roles.')
param operatorsAudience string

@description('Tags applied to every resource.')
param tags object

var port = 8080

var crlUrlEnv = [for (url, i) in crlUrls: {
  name: 'Signatures__CrlUrls__${i}'
  value: url
}]

// What both apps run with: local.settings.sample.json keys in their environment-variable form, then Azure-only settings.
var sharedEnv = [
  // local.settings.sample.json keys, in their environment-variable form
  {
    name: 'AzureWebJobsStorage__accountName'
    value: storageAccountName
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
    name: 'ASPNETCORE_HTTP_PORTS'
    value: string(port)
  }
  {
    name: 'Http__TrustForwardedHeaders'
    value: 'true'
  }
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    secretRef: 'appinsights-connection-string'
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
]

var probes = [
  {
    type: 'Startup'
    httpGet: {
      path: '/healthz'
      port: port
    }
    periodSeconds: 2
    failureThreshold: 30
  }
  {
    type: 'Liveness'
    httpGet: {
      path: '/healthz'
      port: port
    }
    periodSeconds: 10
    failureThreshold: 3
  }
  {
    type: 'Readiness'
    httpGet: {
      path: '/readyz'
      port: port
    }
    periodSeconds: 5
    failureThreshold: 3
  }
]

var registries = empty(registryServer)
  ? []
  : [
      {
        server: registryServer
        identity: identityId
      }
    ]

var secrets = [
  {
    name: 'appinsights-connection-string'
    keyVaultUrl: telemetrySecretUri
    identity: identityId
  }
]


resource workspace 'Microsoft.OperationalInsights/workspaces@2025-02-01' existing = {
  name: workspaceName
}

resource environment 'Microsoft.App/managedEnvironments@2025-01-01' = {
  name: environmentName
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: workspace.properties.customerId
        sharedKey: workspace.listKeys().primarySharedKey
      }
    }
    vnetConfiguration: empty(infrastructureSubnetId)
      ? null
      : {
          infrastructureSubnetId: infrastructureSubnetId
          internal: false
        }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ]
  }
}

resource app 'Microsoft.App/containerApps@2025-01-01' = {
  name: appName
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    environmentId: environment.id
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: port
        transport: 'http'
        allowInsecure: false
        traffic: [
          {
            latestRevision: true
            weight: 100
          }
        ]
      }
      registries: registries
      secrets: secrets
    }
    template: {
      containers: [
        {
          name: 'api'
          image: image
          resources: {
            cpu: json(cpu)
            memory: memory
          }
          env: concat(sharedEnv, crlUrlEnv, [
            {
              name: 'Operations__Endpoints'
              value: 'false' // the public ingress serves customers only
            }
            {
              name: 'OTEL_SERVICE_NAME'
              value: appName
            }
          ])
          probes: probes
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'http-concurrency'
            http: {
              metadata: {
                concurrentRequests: string(httpConcurrency)
              }
            }
          }
          {
            // Durable timers (workflow waits, deadlines) leave a message that becomes visible at
            // their due time; counting visible messages only wakes the app exactly then.
            name: 'workflow-wakeups'
            custom: {
              type: 'azure-queue'
              identity: identityId
              metadata: {
                accountName: storageAccountName
                queueName: wakeupQueueName
                queueLength: '1'
                queueLengthStrategy: 'visibleonly'
              }
            }
          }
        ]
      }
    }
  }
}

// The operations app: the same image, internal ingress only, operator endpoints on. Workflows and timers
// run in both apps (they share the storage), so it needs no queue scaler of its own.
resource opsApp 'Microsoft.App/containerApps@2025-01-01' = {
  name: '${appName}-ops'
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    environmentId: environment.id
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: false
        targetPort: port
        transport: 'http'
        allowInsecure: false
        traffic: [
          {
            latestRevision: true
            weight: 100
          }
        ]
      }
      registries: registries
      secrets: secrets
    }
    template: {
      containers: [
        {
          name: 'api'
          image: image
          resources: {
            cpu: json(cpu)
            memory: memory
          }
          env: concat(sharedEnv, crlUrlEnv, [
            {
              name: 'Operations__Endpoints'
              value: 'true'
            }
            {
              name: 'OTEL_SERVICE_NAME'
              value: '${appName}-ops'
            }
          ])
          probes: probes
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: 2
        rules: [
          {
            name: 'http-concurrency'
            http: {
              metadata: {
                concurrentRequests: string(httpConcurrency)
              }
            }
          }
        ]
      }
    }
  }
}

@description('Public HTTPS address of the API.')
output url string = 'https://${app.properties.configuration.ingress.fqdn}'

@description('Container App name.')
output name string = app.name

@description('Internal HTTPS address of the operations app (reachable from the environment\'s network only).')
output opsUrl string = 'https://${opsApp.properties.configuration.ingress.fqdn}'
