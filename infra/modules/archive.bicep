// The document archive (R-39, clause 5.1.6: 5 years): its own account, because version-level WORM set on the
// account applies to every blob in it. Every blob version written here is immutable for the
// retention period; with the policy Locked, nobody — not the app, not an owner of the subscription,
// not Microsoft support — can shorten it or delete a protected version before it expires.
//
// Azure creates an account-level policy only as Unlocked; it can then be Locked by a later
// deployment, and never unlocked again. The first deployment of an environment therefore passes
// archivePolicyState=Unlocked (see infra/README.md); every later one keeps the default, Locked.

@description('Azure region.')
param location string

@description('Storage account name (3-24 lowercase letters and digits, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Shared-key (account key and SAS) access; off in production.')
param allowSharedKeyAccess bool

@description('Replication: geo-zone-redundant in production.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GZRS'
  'Standard_RAGZRS'
])
param skuName string

@description('Container name of the archive.')
param containerName string

@description('Immutability period of every blob version, in days since it was written: 5 years, leap days included.')
@minValue(1827)
param retentionDays int

@description('Unlocked only on the first deployment; Locked is final.')
@allowed([
  'Unlocked'
  'Locked'
])
param policyState string

@description('Days a deleted container can be restored (blobs cannot be deleted while immutable).')
@minValue(7)
@maxValue(365)
param softDeleteDays int

@description('Name of the app\'s user-assigned identity that gets the Blob data role.')
param identityName string

@description('Enabled in dev; Disabled in prod, where the app reaches it through private endpoints.')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string

@description('Tags applied to every resource.')
param tags object

var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: identityName
}

resource account 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Cool'
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    allowSharedKeyAccess: allowSharedKeyAccess
    defaultToOAuthAuthentication: true
    allowCrossTenantReplication: false
    publicNetworkAccess: publicNetworkAccess
    immutableStorageWithVersioning: {
      enabled: true
      immutabilityPolicy: {
        immutabilityPeriodSinceCreationInDays: retentionDays
        state: policyState
        allowProtectedAppendWrites: false
      }
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
          keyType: 'Account'
        }
        file: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: account
  name: 'default'
  properties: {
    isVersioningEnabled: true
    changeFeed: {
      enabled: true
    }
    deleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
  }
}

resource archive 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: blobService
  name: containerName
  properties: {
    publicAccess: 'None'
    immutableStorageWithVersioning: {
      enabled: true
    }
  }
}

// Nobody deletes the archive account by mistake; removing this lock is itself an audited act.
resource noDelete 'Microsoft.Authorization/locks@2020-05-01' = {
  scope: account
  name: 'archive-no-delete'
  properties: {
    level: 'CanNotDelete'
    notes: 'Payment documents are kept 5 years under a locked WORM policy.'
  }
}

resource blobData 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: account
  name: guid(account.id, identity.id, storageBlobDataContributor)
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
  }
}

@description('Account name.')
output name string = account.name

@description('Blob endpoint (ArchiveStorage__blobServiceUri).')
output blobEndpoint string = account.properties.primaryEndpoints.blob

@description('Archive account resource id.')
output id string = account.id
