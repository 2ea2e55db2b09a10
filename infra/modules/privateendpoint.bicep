// One private endpoint of a storage service or a vault in the endpoints subnet, registered in its private DNS zone.

@description('Azure region.')
param location string

@description('Private endpoint name.')
param name string

@description('The resource reached through it (a storage account or a vault).')
param targetId string

@description('The sub-resource: blob, table, queue or vault.')
param groupId string

@description('Subnet of the private endpoints.')
param subnetId string

@description('Private DNS zone of the sub-resource.')
param zoneId string

@description('Tags.')
param tags object

resource endpoint 'Microsoft.Network/privateEndpoints@2025-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    subnet: {
      id: subnetId
    }
    privateLinkServiceConnections: [
      {
        name: name
        properties: {
          privateLinkServiceId: targetId
          groupIds: [
            groupId
          ]
        }
      }
    ]
  }
}

resource zoneGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2025-05-01' = {
  parent: endpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: groupId
        properties: {
          privateDnsZoneId: zoneId
        }
      }
    ]
  }
}
