// Key Vault for the app's secrets. RBAC authorisation only (no access policies), soft delete with
// purge protection, so a deleted key can be recovered for 90 days and nobody can purge it sooner.
// Secret values are never in a template: operators set them (infra/README.md lists the names).

@description('Azure region.')
param location string

@description('Vault name (3-24 letters, digits and hyphens, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Days a deleted vault or secret can be recovered.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

@description('Name of the app\'s user-assigned identity that gets Key Vault Secrets User (read secret values, nothing else).')
param identityName string

@description('Application Insights component whose connection string the vault keeps for the Container App.')
param appInsightsName string

@description('Enabled in dev; Disabled in prod, where the app reaches it through private endpoints.')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string

@description('Tags applied to every resource.')
param tags object

var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: identityName
}

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: publicNetworkAccess
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: publicNetworkAccess == 'Enabled' ? 'Allow' : 'Deny'
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

// The one secret the deployment itself knows: it comes from the resource, never from a literal.
resource telemetryConnection 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = {
  parent: vault
  name: 'applicationinsights-connection-string'
  properties: {
    value: appInsights.properties.ConnectionString
    contentType: 'text/plain'
  }
}

resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault
  name: guid(vault.id, identity.id, keyVaultSecretsUser)
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
  }
}

@description('Vault URI (KeyVault__Uri).')
output uri string = vault.properties.vaultUri

@description('Vault name.')
output name string = vault.name

@description('Vault resource id.')
output id string = vault.id

@description('Key Vault reference of the Application Insights connection string.')
output telemetrySecretUri string = '${vault.properties.vaultUri}secrets/${telemetryConnection.name}'

@description('Role assignment the Container App waits for before it reads the vault.')
output secretsUserAssignmentId string = secretsUser.id
