// The app's user-assigned managed identity: it reaches storage and Key Vault with Entra ID tokens,
// so no storage key or vault credential exists anywhere in the app's configuration.

@description('Azure region.')
param location string

@description('Identity name.')
param name string

@description('Tags applied to every resource.')
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

@description('Resource id (Container Apps identity, registry pull and scale rules).')
output id string = identity.id

@description('Object id the role assignments name.')
output principalId string = identity.properties.principalId

@description('Client id the app passes to DefaultAzureCredential (AZURE_CLIENT_ID).')
output clientId string = identity.properties.clientId
