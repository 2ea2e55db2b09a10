using 'main.bicep'

// Development: scales to zero, one region-local copy of the data, shared keys allowed for tooling.
param environmentName = 'dev'
param hosting = readEnvironmentVariable('BUSINESS_API_HOSTING', 'containerApps')
param containerImage = readEnvironmentVariable('BUSINESS_API_IMAGE', '')
param registryServer = readEnvironmentVariable('BUSINESS_API_REGISTRY', '')
param archivePolicyState = readEnvironmentVariable('ARCHIVE_POLICY_STATE', 'Locked')
param deployApp = bool(readEnvironmentVariable('DEPLOY_APP', 'true'))
param operatorsAuthority = readEnvironmentVariable('OPERATORS_AUTHORITY')
param operatorsAudience = readEnvironmentVariable('OPERATORS_AUDIENCE')
param tags = {
  costCenter: 'business-api-dev'
}
