using Microsoft.Extensions.Azure;

namespace BusinessApi.Platform.Secrets;

public static class SecretsServiceCollectionExtensions
{
    public const string VaultUriSetting = "KeyVault:Uri";

    /// <summary>Key Vault when <c>KeyVault:Uri</c> is set, otherwise the generated local file.</summary>
    public static IServiceCollection AddPlatformSecrets(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SecretsOptions>().Bind(configuration.GetSection(SecretsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        if (configuration[VaultUriSetting] is { Length: > 0 } vaultUri)
        {
            services.AddAzureClients(clients => clients.AddSecretClient(new Uri(vaultUri)));
            services.AddSingleton<ISecretStore, KeyVaultSecretStore>();
        }
        else
        {
            services.AddSingleton<LocalSecretStore>();
            services.AddSingleton<ISecretStore>(sp => sp.GetRequiredService<LocalSecretStore>());
        }

        return services;
    }

    public static bool UsesKeyVault(this IConfiguration configuration) =>
        configuration[VaultUriSetting] is { Length: > 0 };
}
