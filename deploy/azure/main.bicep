// Customer Card for Teams on Azure: Azure Bot (Teams channel), Azure Container Apps,
// Azure Database for PostgreSQL flexible server, Key Vault for secrets, a user-assigned
// managed identity that reads them, and Log Analytics for the JSON logs.
//
//   az deployment group create -g RG -f deploy/azure/main.bicep -p @deploy/azure/main.parameters.example.json
//
// Secrets are parameters marked @secure() and go straight into Key Vault; the container app
// reads them through its managed identity (no secret in the app's configuration).

targetScope = 'resourceGroup'

@description('Prefix for resource names (lowercase letters and digits).')
@minLength(3)
@maxLength(12)
param namePrefix string = 'custcard'

param location string = resourceGroup().location

@description('Container image you built and pushed from deploy/Dockerfile, e.g. myregistry.azurecr.io/customer-card:0.1.0 (the project publishes none)')
param image string

@description('Microsoft App ID of the bot (Entra ID app registration, single tenant).')
param botAppId string

@description('Entra ID tenant of the bot app registration.')
param botTenantId string = subscription().tenantId

@secure()
@description('Client secret of the bot app registration.')
param botAppPassword string

@secure()
@description('Comma-separated bearer keys for the contact-center platform (events, workflow execute).')
param platformApiKeys string

@secure()
@description('Comma-separated bearer keys for the admin API.')
param adminApiKeys string

@secure()
@description('Fernet key that encrypts CRM secrets at rest (customer-card generates one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())").')
param secretKey string

@description('PostgreSQL administrator login.')
param postgresAdminLogin string = 'customercard'

@secure()
param postgresAdminPassword string

@description('Bot Service SKU: F0 (free) or S1.')
@allowed(['F0', 'S1'])
param botSku string = 'S1'

@minValue(1)
param minReplicas int = 2

@minValue(1)
param maxReplicas int = 10

var suffix = uniqueString(resourceGroup().id)
var keyVaultName = take('${namePrefix}kv${suffix}', 24)
var postgresName = '${namePrefix}-pg-${suffix}'
var databaseName = 'customer_card'
var keyVaultSecretsUserRole = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '4633458b-17de-408a-b874-0445c86b69e6')

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${namePrefix}-id'
  location: location
}

resource logs 'Microsoft.OperationalInsights/workspaces@2022-10-01' = {
  name: '${namePrefix}-logs-${suffix}'
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: keyVaultName
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    enablePurgeProtection: true
    softDeleteRetentionInDays: 90
    // Container Apps read secrets over the public endpoint with their managed identity;
    // with a VNet-integrated environment, switch to a private endpoint and 'Disabled'.
    publicNetworkAccess: 'Enabled'
  }
}

resource vaultReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, keyVaultSecretsUserRole)
  scope: vault
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: keyVaultSecretsUserRole
  }
}

resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: postgresName
  location: location
  sku: { name: 'Standard_B2s', tier: 'Burstable' }
  properties: {
    // PostgreSQL 16 needs API version 2024-08-01 or newer (2022-12-01 knows 11 to 14).
    version: '16'
    administratorLogin: postgresAdminLogin
    administratorLoginPassword: postgresAdminPassword
    storage: { storageSizeGB: 32 }
    backup: { backupRetentionDays: 14, geoRedundantBackup: 'Disabled' }
    highAvailability: { mode: 'Disabled' }
  }
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: postgres
  name: databaseName
  properties: { charset: 'UTF8', collation: 'en_US.utf8' }
}

// Container Apps reach the server over the Azure backbone; tighten with VNet integration
// (delegated subnet) for production networks.
resource allowAzure 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = {
  parent: postgres
  name: 'AllowAzureServices'
  properties: { startIpAddress: '0.0.0.0', endIpAddress: '0.0.0.0' }
}

var databaseUrl = 'postgresql+asyncpg://${postgresAdminLogin}:${uriComponent(postgresAdminPassword)}@${postgres.properties.fullyQualifiedDomainName}:5432/${databaseName}?ssl=require'

var vaultSecrets = {
  'app-password': botAppPassword
  'api-keys': platformApiKeys
  'admin-api-keys': adminApiKeys
  'secret-key': secretKey
  'database-url': databaseUrl
}

resource secrets 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [for item in items(vaultSecrets): {
  parent: vault
  name: item.key
  properties: { value: item.value, contentType: 'text/plain' }
}]

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: '${namePrefix}-env'
  location: location
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logs.properties.customerId
        sharedKey: logs.listKeys().primarySharedKey
      }
    }
  }
}

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: '${namePrefix}-app'
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  dependsOn: [vaultReader, secrets]
  properties: {
    managedEnvironmentId: environment.id
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: 3978
        transport: 'http'
        allowInsecure: false
      }
      secrets: [for item in items(vaultSecrets): {
        name: item.key
        keyVaultUrl: '${vault.properties.vaultUri}secrets/${item.key}'
        identity: identity.id
      }]
    }
    template: {
      containers: [
        {
          name: 'service'
          image: image
          args: ['serve']
          resources: { cpu: json('0.5'), memory: '1Gi' }
          env: [
            { name: 'CUSTOMER_CARD_APP_ID', value: botAppId }
            { name: 'CUSTOMER_CARD_APP_TENANT_ID', value: botTenantId }
            { name: 'CUSTOMER_CARD_LOG_FORMAT', value: 'json' }
            { name: 'CUSTOMER_CARD_PUBLIC_URL', value: 'https://${namePrefix}-app.${environment.properties.defaultDomain}' }
            { name: 'CUSTOMER_CARD_APP_PASSWORD', secretRef: 'app-password' }
            { name: 'CUSTOMER_CARD_API_KEYS', secretRef: 'api-keys' }
            { name: 'CUSTOMER_CARD_ADMIN_API_KEYS', secretRef: 'admin-api-keys' }
            { name: 'CUSTOMER_CARD_SECRET_KEY', secretRef: 'secret-key' }
            { name: 'CUSTOMER_CARD_DATABASE_URL', secretRef: 'database-url' }
          ]
          probes: [
            { type: 'Readiness', httpGet: { path: '/readyz', port: 3978 }, periodSeconds: 5 }
            { type: 'Liveness', httpGet: { path: '/healthz', port: 3978 }, periodSeconds: 15, initialDelaySeconds: 10 }
          ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: [
          { name: 'http', http: { metadata: { concurrentRequests: '50' } } }
        ]
      }
    }
  }
}

resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: '${namePrefix}-bot-${suffix}'
  location: 'global'
  kind: 'azurebot'
  sku: { name: botSku }
  properties: {
    displayName: 'Customer Card'
    endpoint: 'https://${app.properties.configuration.ingress.fqdn}/api/messages'
    msaAppId: botAppId
    msaAppType: 'SingleTenant'
    msaAppTenantId: botTenantId
    disableLocalAuth: false
  }
}

resource teams 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
    properties: { isEnabled: true }
  }
}

output messagingEndpoint string = bot.properties.endpoint
output appFqdn string = app.properties.configuration.ingress.fqdn
output keyVaultName string = vault.name
