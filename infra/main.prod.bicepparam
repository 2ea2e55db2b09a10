using 'main.bicep'

// Production: one warm replica, zone- and geo-redundant storage, Entra ID tokens only.
param environmentName = 'prod'
param hosting = readEnvironmentVariable('BUSINESS_API_HOSTING', 'containerApps')
param containerImage = readEnvironmentVariable('BUSINESS_API_IMAGE', '')
param registryServer = readEnvironmentVariable('BUSINESS_API_REGISTRY', '')
param archivePolicyState = readEnvironmentVariable('ARCHIVE_POLICY_STATE', 'Locked')
param deployApp = bool(readEnvironmentVariable('DEPLOY_APP', 'true'))
param operatorsAuthority = readEnvironmentVariable('OPERATORS_AUTHORITY')
param operatorsAudience = readEnvironmentVariable('OPERATORS_AUDIENCE')
param tags = {
  costCenter: 'business-api'
  dataClassification: 'bank-confidential'
}
