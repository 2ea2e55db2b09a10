// The private network of prod: the Container Apps environment's subnet (or, with hosting 'functions', the function
// apps' VNet integration: both delegate to Microsoft.App/environments), a subnet for private endpoints,
// and the private DNS zones that make the storage accounts and Key Vault resolve to those endpoints
// from inside the network. With it, storage and Key Vault close their public network access.

@description('Azure region.')
param location string

@description('Virtual network name.')
param name string

@description('Address space of the virtual network.')
param addressPrefix string

@description('Subnet of the Container Apps environment (at least /23, delegated to Microsoft.App/environments).')
param appsSubnetPrefix string

@description('Subnet of the private endpoints.')
param endpointsSubnetPrefix string

@description('Tags.')
param tags object

// Private DNS zone names, built from the cloud's own suffixes.
var zoneNames = {
  blob: 'privatelink.blob.${environment().suffixes.storage}'
  table: 'privatelink.table.${environment().suffixes.storage}'
  queue: 'privatelink.queue.${environment().suffixes.storage}'
  sites: 'privatelink.azurewebsites.net'
  vault: 'privatelink${replace(environment().suffixes.keyvaultDns, '.vault.', '.vaultcore.')}'
}

resource vnet 'Microsoft.Network/virtualNetworks@2025-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: 'apps'
        properties: {
          addressPrefix: appsSubnetPrefix
          delegations: [
            {
              name: 'containerapps'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: 'endpoints'
        properties: {
          addressPrefix: endpointsSubnetPrefix
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for zone in items(zoneNames): {
    name: zone.value
    location: 'global'
    tags: tags
  }
]

resource links 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (zone, i) in items(zoneNames): {
    parent: zones[i]
    name: '${name}-link'
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: vnet.id
      }
    }
  }
]

@description('Subnet id of the Container Apps environment.')
output appsSubnetId string = vnet.properties.subnets[0].id

@description('Subnet id of the private endpoints.')
output endpointsSubnetId string = vnet.properties.subnets[1].id

@description('Private DNS zone ids by service: blob, table, queue, vault, and sites (function apps).')
output zoneIds object = {
  blob: zones[0].id
  queue: zones[1].id
  sites: zones[2].id
  table: zones[3].id
  vault: zones[4].id
}
