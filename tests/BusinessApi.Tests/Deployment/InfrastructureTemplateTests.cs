using System.Text.Json.Nodes;
using BusinessApi.Platform.Storage;
using BusinessApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BusinessApi.Tests.Deployment;

/// <summary>
/// The Bicep in <c>infra/</c>, compiled by the Bicep CLI from NuGet: every file builds and lints with no
/// warning, and the compiled ARM JSON, evaluated per environment, has the settings a bank's security
/// review asks about.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class InfrastructureTemplateTests
{
    private const string TableRole = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3";
    private const string QueueRole = "974c5e8b-45b9-4653-ba55-5f855dd0fb88";
    private const string BlobRole = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
    private const string SecretsUserRole = "4633458b-17de-408a-b874-0445c86b69e6";

    /// <summary>Five years, whatever day they start on: 5 × 365 days plus two leap days.</summary>
    private const int FiveYearsInDays = 1827;

    [Fact]
    public async Task Every_bicep_file_builds_and_lints_without_a_diagnostic()
    {
        var files = BicepCli.Files("*.bicep").Concat(BicepCli.Files("*.bicepparam")).ToList();
        Assert.Contains(files, f => f.EndsWith("infra/main.bicep", StringComparison.Ordinal));
        Assert.Equal(2, files.Count(f => f.EndsWith(".bicepparam", StringComparison.Ordinal)));

        var runs = files.Select(async file =>
        {
            var relative = Path.GetRelativePath(BicepCli.InfraDirectory, file);
            var environment = relative.EndsWith(".bicepparam", StringComparison.Ordinal) ? BicepCli.DeployEnvironment : null;
            var lint = await BicepCli.RunAsync(environment, "lint", relative);
            var build = relative.EndsWith(".bicepparam", StringComparison.Ordinal)
                ? await BicepCli.RunAsync(environment, "build-params", relative, "--stdout")
                : await BicepCli.RunAsync(environment, "build", relative, "--stdout");
            return (relative, lint, build);
        });

        var problems = new List<string>();
        foreach (var (file, lint, build) in await Task.WhenAll(runs))
        {
            if (lint.ExitCode != 0 || lint.Diagnostics.Length > 0)
            {
                problems.Add($"lint {file} (exit {lint.ExitCode}):\n{lint.Diagnostics}");
            }

            // build writes the JSON to stdout and any diagnostic to stderr
            if (build.ExitCode != 0 || build.Errors.Trim().Length > 0)
            {
                problems.Add($"build {file} (exit {build.ExitCode}):\n{build.Errors}");
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n\n", problems));
    }

    [Theory]
    [InlineData("dev")]
    [InlineData("prod")]
    public async Task Storage_accounts_take_tokens_over_TLS_1_2_only_and_never_serve_public_blobs(string environment)
    {
        var main = await CompileAsync(environment);
        var accounts = main.AllResources().Where(r => Type(r.Resource) == "Microsoft.Storage/storageAccounts").ToList();
        Assert.Equal(2, accounts.Count);
        foreach (var (template, account) in accounts)
        {
            Assert.Equal("TLS1_2", Text(template.Get(account, "properties.minimumTlsVersion")));
            Assert.True(Bool(template.Get(account, "properties.supportsHttpsTrafficOnly")));
            Assert.False(Bool(template.Get(account, "properties.allowBlobPublicAccess")));
            Assert.True(Bool(template.Get(account, "properties.defaultToOAuthAuthentication")));
            Assert.False(Bool(template.Get(account, "properties.allowCrossTenantReplication")));
            var sharedKey = Bool(template.Get(account, "properties.allowSharedKeyAccess"));
            if (environment == "prod")
            {
                Assert.False(sharedKey, $"{template.DeploymentName}: shared-key access must be off in prod");
            }
        }
    }

    [Theory]
    [InlineData("dev")]
    [InlineData("prod")]
    public async Task The_archive_is_version_level_WORM_locked_for_five_years_with_versioning_and_soft_delete(string environment)
    {
        var main = await CompileAsync(environment);
        var archive = main.ModuleNamed("archive");
        var account = Single(archive, "Microsoft.Storage/storageAccounts");
        Assert.True(Bool(archive.Get(account, "properties.immutableStorageWithVersioning.enabled")));
        Assert.Equal("Locked", Text(archive.Get(account, "properties.immutableStorageWithVersioning.immutabilityPolicy.state")));
        Assert.True(Int(archive.Get(account, "properties.immutableStorageWithVersioning.immutabilityPolicy.immutabilityPeriodSinceCreationInDays")) >= FiveYearsInDays);
        Assert.False(Bool(archive.Get(account, "properties.immutableStorageWithVersioning.immutabilityPolicy.allowProtectedAppendWrites")));

        // Below five years the template itself refuses the value.
        Assert.Equal(FiveYearsInDays, (int)main.Definition["parameters"]!["archiveRetentionDays"]!["minValue"]!);

        var blobService = Single(archive, "Microsoft.Storage/storageAccounts/blobServices");
        Assert.True(Bool(archive.Get(blobService, "properties.isVersioningEnabled")));
        Assert.True(Bool(archive.Get(blobService, "properties.deleteRetentionPolicy.enabled")));
        Assert.True(Bool(archive.Get(blobService, "properties.containerDeleteRetentionPolicy.enabled")));

        var container = Single(archive, "Microsoft.Storage/storageAccounts/blobServices/containers");
        Assert.Equal("archive", Text(archive.Evaluate(container["name"]))!.Split('/')[^1]);
        Assert.Equal("None", Text(archive.Get(container, "properties.publicAccess")));

        var deleteLock = Single(archive, "Microsoft.Authorization/locks");
        Assert.Equal("CanNotDelete", Text(archive.Get(deleteLock, "properties.level")));
    }

    [Theory]
    [InlineData("dev")]
    [InlineData("prod")]
    public async Task Key_Vault_uses_RBAC_with_soft_delete_and_purge_protection_and_holds_no_app_secret_value(string environment)
    {
        var main = await CompileAsync(environment);
        var vaults = main.ModuleNamed("keyvault");
        var vault = Single(vaults, "Microsoft.KeyVault/vaults");
        Assert.True(Bool(vaults.Get(vault, "properties.enableRbacAuthorization")));
        Assert.True(Bool(vaults.Get(vault, "properties.enableSoftDelete")));
        Assert.True(Bool(vaults.Get(vault, "properties.enablePurgeProtection")));
        Assert.Equal(90, Int(vaults.Get(vault, "properties.softDeleteRetentionInDays")));

        // The only secret the template writes is the telemetry connection string, taken from the resource.
        var secrets = main.AllResources().Where(r => Type(r.Resource) == "Microsoft.KeyVault/vaults/secrets").ToList();
        var secret = Assert.Single(secrets);
        Assert.EndsWith("/applicationinsights-connection-string", Text(secret.Template.Evaluate(secret.Resource["name"])), StringComparison.Ordinal);
        Assert.True(DeploymentTimeValue.IsOne(secret.Template.Get(secret.Resource, "properties.value")));

        var required = main.Definition["outputs"]!["requiredSecrets"]!["value"]!.AsArray().Select(n => (string)n!).ToHashSet();
        Assert.Equal(
            new HashSet<string>(["operations-api-keys", "access-token-signing-key", "credential-secret-key", "webhook-signing-key"]),
            required);
    }

    [Theory]
    [InlineData("dev", "containerApps")]
    [InlineData("prod", "containerApps")]
    [InlineData("dev", "functions")]
    [InlineData("prod", "functions")]
    public async Task The_app_identity_gets_exactly_the_data_roles_and_Secrets_User_and_nothing_else(string environment, string hosting)
    {
        var main = await CompileAsync(environment, new Dictionary<string, string> { ["BUSINESS_API_HOSTING"] = hosting });
        var identities = main.ModuleNamed("identity");
        var appIdentity = Text(identities.Get(Single(identities, "Microsoft.ManagedIdentity/userAssignedIdentities"), "name"));
        var assignments = main.AllResources()
            .Where(r => Type(r.Resource) == "Microsoft.Authorization/roleAssignments")
            .Select(r =>
            {
                var role = Text(r.Template.Get(r.Resource, "properties.roleDefinitionId"))!.Split('/')[^1];
                var scope = Text(r.Template.Evaluate(r.Resource["scope"]))!;
                Assert.Equal("ServicePrincipal", Text(r.Template.Get(r.Resource, "properties.principalType")));
                // the principal is the app's user-assigned identity, known once it exists
                Assert.Equal(appIdentity, PrincipalIdentityName(r.Template, Text(r.Resource["properties"]!["principalId"])!));
                // "Microsoft.Storage/storageAccounts/{name}" or a full resource id: the scope's resource type
                var scopeType = scope.Contains("/providers/", StringComparison.Ordinal) ? scope[(scope.LastIndexOf("/providers/", StringComparison.Ordinal) + 11)..] : scope;
                return $"{r.Template.DeploymentName}:{scopeType.Split('/')[0]}/{scopeType.Split('/')[1]}:{role}";
            })
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.Equal(
            new[]
            {
                $"archive:Microsoft.Storage/storageAccounts:{BlobRole}",
                $"keyvault:Microsoft.KeyVault/vaults:{SecretsUserRole}",
                $"storage:Microsoft.Storage/storageAccounts:{BlobRole}",
                $"storage:Microsoft.Storage/storageAccounts:{QueueRole}",
                $"storage:Microsoft.Storage/storageAccounts:{TableRole}",
            }.Order(StringComparer.Ordinal),
            assignments);
    }

    [Theory]
    [InlineData("dev", 0)]
    [InlineData("prod", 1)]
    public async Task The_container_app_is_HTTPS_only_probed_and_scales_on_requests_and_on_the_wakeup_queue(string environment, int minReplicas)
    {
        var main = await CompileAsync(environment);
        Assert.True(Bool(main.Evaluate(main.DeploymentNamed("containerapp")["condition"])), "the parameter files deploy the app");
        var apps = main.ModuleNamed("containerapp");
        var (app, opsApp) = PublicAndOperationsApps(apps);

        // Customers reach the public app, where operator paths do not exist; staff reach the internal one.
        Assert.True(Bool(apps.Get(app, "properties.configuration.ingress.external")));
        Assert.False(Bool(apps.Get(opsApp, "properties.configuration.ingress.external")));
        string? Setting(JsonObject resource, string name) =>
            Text(apps.Get(resource, "properties.template.containers[0].env")!.AsArray().Single(e => Text(e!["name"]) == name)!["value"]);
        Assert.Equal(("false", "true"), (Setting(app, "Operations__Endpoints"), Setting(opsApp, "Operations__Endpoints")));
        Assert.All(new[] { app, opsApp }, a => Assert.Equal(("true", "false"), (Setting(a, "Operations__FourEyes"), Setting(a, "Operations__AllowStaticKeys"))));
        Assert.Equal("api://business-api", Setting(opsApp, "Operators__Audience"));
        Assert.False(Bool(apps.Get(app, "properties.configuration.ingress.allowInsecure")));
        Assert.Equal("UserAssigned", Text(apps.Get(app, "identity.type")));

        var container = apps.Get(app, "properties.template.containers[0]")!.AsObject();
        var port = Int(container["env"]!.AsArray().Single(e => Text(e!["name"]) == "ASPNETCORE_HTTP_PORTS")!["value"]);
        Assert.Equal(port, Int(apps.Get(app, "properties.configuration.ingress.targetPort")));
        var probes = container["probes"]!.AsArray().ToDictionary(p => Text(p!["type"])!, p => p!["httpGet"]!);
        Assert.Equal("/healthz", Text(probes["Liveness"]["path"]));
        Assert.Equal("/readyz", Text(probes["Readiness"]["path"]));
        Assert.Equal("/healthz", Text(probes["Startup"]["path"]));
        Assert.All(probes.Values, p => Assert.Equal(port, Int(p["port"])));

        Assert.Equal(minReplicas, Int(apps.Get(app, "properties.template.scale.minReplicas")));
        var rules = apps.Get(app, "properties.template.scale.rules")!.AsArray();
        Assert.Contains(rules, r => r!["http"]?["metadata"]?["concurrentRequests"] is not null);
        var queueRule = rules.Single(r => Text(r!["custom"]?["type"]) == "azure-queue")!["custom"]!;
        Assert.Equal(WakeupQueuePhysicalName, Text(queueRule["metadata"]!["queueName"]));
        Assert.Equal("visibleonly", Text(queueRule["metadata"]!["queueLengthStrategy"]));
        Assert.True(DeploymentTimeValue.IsOne(queueRule["identity"]), "the scaler authenticates as the app identity");
        Assert.True(DeploymentTimeValue.IsOne(queueRule["metadata"]!["accountName"]));
    }

    [Fact]
    public async Task The_container_app_sets_every_local_settings_key_or_reads_it_from_Key_Vault()
    {
        var main = await CompileAsync("prod");
        var apps = main.ModuleNamed("containerapp");
        var (app, _) = PublicAndOperationsApps(apps);
        var env = apps.Get(app, "properties.template.containers[0].env")!.AsArray()
            .ToDictionary(e => Text(e!["name"])!, e => e!.AsObject(), StringComparer.Ordinal);

        var sample = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(BicepCli.InfraDirectory, "..", "local.settings.sample.json")))!;
        foreach (var (key, _) in sample["Values"]!.AsObject())
        {
            var name = key.Replace(":", "__", StringComparison.Ordinal);
            switch (key)
            {
                case "AzureWebJobsStorage":
                    // identity-based, as in Functions: the account name, never a connection string with a key
                    Assert.True(env.ContainsKey("AzureWebJobsStorage__accountName"));
                    Assert.False(env.ContainsKey("AzureWebJobsStorage"));
                    break;
                case "FUNCTIONS_WORKER_RUNTIME":
                    // the Functions host's, for `func start`; a container runs the Kestrel host, which does not read it
                    Assert.False(env.ContainsKey(name));
                    break;
                case "Operations:ApiKeys":
                    // with KeyVault:Uri set the app reads the keys from the vault secret, so rotation needs no new revision
                    Assert.False(env.ContainsKey(name), "operator keys must not be in the app's environment");
                    Assert.Contains(main.Definition["outputs"]!["requiredSecrets"]!["value"]!.AsArray(), n => (string)n! == "operations-api-keys");
                    break;
                default:
                    Assert.True(env.ContainsKey(name), $"{key} ({name}) is not set on the container app");
                    break;
            }
        }

        Assert.Equal("Production", Text(env["ASPNETCORE_ENVIRONMENT"]["value"]));
        Assert.True(DeploymentTimeValue.IsOne(env["KeyVault__Uri"]["value"]));

        // NCA RK's revocation services by default: the CRLs (base and delta, RSA and GOST) and the OCSP responder.
        Assert.Equal("http://ocsp.pki.gov.kz", Text(env["Signatures__OcspUrl"]["value"]));
        Assert.Equal("http://crl.pki.gov.kz/nca_gost_2022_d.crl", Text(env["Signatures__CrlUrls__3"]["value"]));
        Assert.Equal("false", Text(env["Sandbox__AcceptTestIdentifiers"]["value"]));
        Assert.True(DeploymentTimeValue.IsOne(env["ArchiveStorage__blobServiceUri"]["value"]));

        // Key Vault reference: the connection string is a secret of the app, resolved by the platform.
        Assert.Equal("appinsights-connection-string", Text(env["APPLICATIONINSIGHTS_CONNECTION_STRING"]["secretRef"]));
        var secret = apps.Get(app, "properties.configuration.secrets")!.AsArray().Single()!;
        Assert.True(DeploymentTimeValue.IsOne(secret["keyVaultUrl"]));
        Assert.True(DeploymentTimeValue.IsOne(secret["identity"]));
        Assert.Null(secret["value"]);
    }

    [Theory]
    [InlineData("dev", false)]
    [InlineData("prod", true)]
    public async Task In_prod_storage_and_Key_Vault_are_closed_to_the_public_network_and_reached_through_private_endpoints(string environment, bool closed)
    {
        var main = await CompileAsync(environment);
        var resources = main.AllResources().ToList();
        var accounts = resources.Where(r => Type(r.Resource) == "Microsoft.Storage/storageAccounts").ToList();
        var vault = resources.Single(r => Type(r.Resource) == "Microsoft.KeyVault/vaults");

        Assert.Equal(2, accounts.Count);
        Assert.All(accounts.Append(vault), r => Assert.Equal(closed ? "Disabled" : "Enabled", Text(r.Template.Get(r.Resource, "properties.publicNetworkAccess"))));
        Assert.Equal(closed ? "Deny" : "Allow", Text(vault.Template.Get(vault.Resource, "properties.networkAcls.defaultAction")));
        foreach (var name in new[] { "network", "pe-archive-blob", "pe-vault" })
        {
            Assert.Equal(closed, Bool(main.Evaluate(main.DeploymentNamed(name)["condition"])));
        }

        // The environment joins the network's apps subnet (known only at deployment, so checked as written).
        var subnet = main.DeploymentNamed("containerapp")["properties"]!["parameters"]!["infrastructureSubnetId"]!["value"]!.ToJsonString();
        Assert.Contains("appsSubnetId", subnet, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_Entra_app_registration_roles_are_the_operator_roles_the_app_checks()
    {
        var main = await CompileAsync("prod");

        var roles = main.Evaluate(main.Definition["outputs"]!["operatorAppRoles"]!["value"])!;
        var values = roles.AsArray().Select(r => Text(r!["value"])!).ToList();

        Assert.Equal(BusinessApi.Platform.Security.OperatorRoles.All.Order(StringComparer.Ordinal), values.Order(StringComparer.Ordinal));
        Assert.All(roles.AsArray(), r => Assert.Equal("User", Text(r!["allowedMemberTypes"]![0])));
        Assert.Equal(roles.AsArray().Count, roles.AsArray().Select(r => Text(r!["id"])).Distinct().Count());
    }

    [Fact]
    public async Task The_template_declares_exactly_the_tables_queues_and_containers_the_app_registers()
    {
        var main = await CompileAsync("prod");
        var storage = main.ModuleNamed("storage");
        var archive = main.ModuleNamed("archive");
        var declaredTables = Strings(storage.Parameter("tables"));
        var declaredQueues = Strings(storage.Parameter("queues"));
        var declaredContainers = Strings(storage.Parameter("containers")).Append(Text(archive.Parameter("containerName"))!).Order(StringComparer.Ordinal).ToList();

        await using var app = FunctionsApp.Create(["--AzureWebJobsStorage=UseDevelopmentStorage=true"], includeLocalSettings: false);
        var registered = app.Services.GetServices<StorageResource>().Distinct().ToList();
        List<string> Names(StorageResourceKind kind) =>
            registered.Where(r => r.Kind == kind).Select(r => kind == StorageResourceKind.Table ? r.LogicalName : r.LogicalName.ToLowerInvariant())
                .Order(StringComparer.Ordinal).ToList();

        Assert.Equal(Names(StorageResourceKind.Table), declaredTables);
        Assert.Equal(Names(StorageResourceKind.Queue), declaredQueues);
        Assert.Equal(Names(StorageResourceKind.BlobContainer), declaredContainers);
        Assert.Contains(WakeupQueuePhysicalName, declaredQueues);
    }

    [Theory]
    [InlineData("dev", 0, false)]
    [InlineData("prod", 1, true)]
    public async Task The_functions_option_runs_both_apps_on_Flex_Consumption_as_the_same_identity_with_the_same_settings(string environment, int alwaysReady, bool privateNetwork)
    {
        var main = await CompileAsync(environment, Functions);
        Assert.False(Bool(main.Evaluate(main.DeploymentNamed("containerapp")["condition"])), "one hosting at a time");
        var identities = main.ModuleNamed("identity");
        var identityName = Text(identities.Get(Single(identities, "Microsoft.ManagedIdentity/userAssignedIdentities"), "name"));
        var sample = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(BicepCli.InfraDirectory, "..", "local.settings.sample.json")))!["Values"]!.AsObject();

        foreach (var (deployment, operations) in new[] { ("functionapp", false), ("functionapp-ops", true) })
        {
            Assert.True(Bool(main.Evaluate(main.DeploymentNamed(deployment)["condition"])));
            var module = main.ModuleNamed(deployment);
            var plan = Single(module, "Microsoft.Web/serverfarms");
            Assert.Equal(("FC1", "FlexConsumption"), (Text(Leaf(module, plan, "sku.name")), Text(Leaf(module, plan, "sku.tier"))));
            var site = Single(module, "Microsoft.Web/sites");
            Assert.Equal("functionapp,linux", Text(Leaf(module, site, "kind")));
            Assert.True(Bool(Leaf(module, site, "properties.httpsOnly")));
            Assert.Equal("1.2", Text(Leaf(module, site, "properties.siteConfig.minTlsVersion")));
            Assert.Equal("Disabled", Text(Leaf(module, site, "properties.siteConfig.ftpsState")));
            Assert.Equal(("dotnet-isolated", "10.0"), (Text(Leaf(module, site, "properties.functionAppConfig.runtime.name")), Text(Leaf(module, site, "properties.functionAppConfig.runtime.version"))));

            // The app's identity for everything: the site, the deployment package, Key Vault references.
            Assert.Equal("UserAssigned", Text(Leaf(module, site, "identity.type")));
            Assert.Equal("UserAssignedIdentity", Text(Leaf(module, site, "properties.functionAppConfig.deployment.storage.authentication.type")));
            Assert.True(DeploymentTimeValue.IsOne(Leaf(module, site, "properties.keyVaultReferenceIdentity")));
            // the identity module's, known only at deployment (so checked as written), as the container apps take it
            Assert.Contains("reference('identity')", Text(main.DeploymentNamed(deployment)["properties"]!["parameters"]!["identityId"]!["value"]), StringComparison.Ordinal);
            Assert.NotNull(identityName);

            var settings = Leaf(module, site, "properties.siteConfig.appSettings")!.AsArray()
                .ToDictionary(e => Text(e!["name"])!, e => e!["value"], StringComparer.Ordinal);
            foreach (var (key, _) in sample)
            {
                var name = key.Replace(":", "__", StringComparison.Ordinal);
                switch (key)
                {
                    case "AzureWebJobsStorage":
                        Assert.Equal("managedidentity", Text(settings["AzureWebJobsStorage__credential"]));
                        Assert.True(settings.ContainsKey("AzureWebJobsStorage__accountName") && settings.ContainsKey("AzureWebJobsStorage__clientId"));
                        Assert.False(settings.ContainsKey("AzureWebJobsStorage"), "no connection string with a key");
                        break;
                    case "FUNCTIONS_WORKER_RUNTIME":
                        Assert.False(settings.ContainsKey(name), "Flex Consumption takes the runtime from functionAppConfig");
                        break;
                    case "Operations:ApiKeys":
                        Assert.False(settings.ContainsKey(name), "operator keys must not be in the app's settings");
                        break;
                    default:
                        Assert.True(settings.ContainsKey(name), $"{key} ({name}) is not set on {deployment}");
                        break;
                }
            }

            // a Key Vault reference the platform resolves with the identity (the vault's URI is known only at deployment)
            var telemetry = module.Definition["variables"]!["sharedSettings"]!.AsArray().Single(e => Text(e!["name"]) == "APPLICATIONINSIGHTS_CONNECTION_STRING")!;
            Assert.Contains("@Microsoft.KeyVault(SecretUri=", Text(telemetry["value"]), StringComparison.Ordinal);
            Assert.Equal(operations ? "true" : "false", Text(settings["Operations__Endpoints"]));
            Assert.Equal(environment == "prod" ? "Production" : "Staging", Text(settings["ASPNETCORE_ENVIRONMENT"]));

            var ready = Leaf(module, site, "properties.functionAppConfig.scaleAndConcurrency.alwaysReady")!.AsArray();
            Assert.Equal(operations ? 0 : alwaysReady, ready.Sum(r => Int(r!["instanceCount"])));

            // Private networking as in the Container Apps option: outbound through the VNet, the operations app inbound only privately.
            // the network's apps subnet, known only at deployment (so checked as written); none in dev
            Assert.Contains("appsSubnetId", Text(main.DeploymentNamed(deployment)["properties"]!["parameters"]!["integrationSubnetId"]!["value"]), StringComparison.Ordinal);
            if (!privateNetwork)
            {
                Assert.Null(Leaf(module, site, "properties.virtualNetworkSubnetId"));
            }
            Assert.Equal(privateNetwork && operations ? "Disabled" : "Enabled", Text(Leaf(module, site, "properties.publicNetworkAccess")));
            Assert.Equal(privateNetwork && operations, module.Resources.Any(r => Type(r.Resource) == "Microsoft.Network/privateEndpoints"
                && Bool(module.Evaluate(r.Resource["condition"] ?? JsonValue.Create(true)))));
        }
    }

    /// <summary>One value of a resource, the expressions on its path evaluated and nothing beside it (unlike <see cref="ArmTemplate.Get"/>).</summary>
    private static JsonNode? Leaf(ArmTemplate template, JsonObject resource, string path)
    {
        JsonNode? current = resource;
        foreach (var name in path.Split('.'))
        {
            current = current is JsonValue ? template.Evaluate(current) : current;
            current = current?[name];
        }

        return template.Evaluate(current);
    }

    private static readonly IReadOnlyDictionary<string, string> Functions = new Dictionary<string, string> { ["BUSINESS_API_HOSTING"] = "functions" };

    [Fact]
    public async Task The_first_deployment_leaves_the_app_out_and_the_archive_policy_unlocked_as_Azure_requires()
    {
        var first = await CompileAsync("prod", new Dictionary<string, string> { ["DEPLOY_APP"] = "false", ["ARCHIVE_POLICY_STATE"] = "Unlocked" });
        Assert.False(Bool(first.Evaluate(first.DeploymentNamed("containerapp")["condition"])));
        var archive = first.ModuleNamed("archive");
        Assert.Equal("Unlocked", Text(archive.Get(Single(archive, "Microsoft.Storage/storageAccounts"), "properties.immutableStorageWithVersioning.immutabilityPolicy.state")));

        // Nothing but these two states is accepted: "Disabled" would switch the WORM off.
        var allowed = first.Definition["parameters"]!["archivePolicyState"]!["allowedValues"]!.AsArray().Select(v => (string)v!).ToList();
        Assert.Equal(["Unlocked", "Locked"], allowed);
        var refused = await BicepCli.RunAsync(new Dictionary<string, string>(BicepCli.DeployEnvironment) { ["ARCHIVE_POLICY_STATE"] = "Disabled" }, "build-params", "main.prod.bicepparam", "--stdout");
        Assert.NotEqual(0, refused.ExitCode);
    }

    private static string WakeupQueuePhysicalName => BusinessApi.Platform.Timers.WakeupAlarm.QueueName;

    // One compilation per environment and variables for the whole class (the CLI takes about a second a run).
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<Task<ChildProcessResult>>> Compiled = new(StringComparer.Ordinal);

    private static async Task<ArmTemplate> CompileAsync(string environment, IReadOnlyDictionary<string, string>? variables = null)
    {
        var values = new Dictionary<string, string>(BicepCli.DeployEnvironment);
        foreach (var (name, value) in variables ?? new Dictionary<string, string>())
        {
            values[name] = value;
        }

        var key = environment + "|" + string.Join("|", values.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => v.Key + "=" + v.Value));
        var result = await Compiled.GetOrAdd(key, _ => new Lazy<Task<ChildProcessResult>>(() =>
            BicepCli.RunAsync(values, "build-params", $"main.{environment}.bicepparam", "--stdout"))).Value;
        Assert.True(result.ExitCode == 0, result.Diagnostics);
        var output = JsonNode.Parse(result.Output)!;
        var template = JsonNode.Parse(Text(output["templateJson"])!)!.AsObject();
        var parameters = JsonNode.Parse(Text(output["parametersJson"])!)!["parameters"]!.AsObject()
            .ToDictionary(p => p.Key, p => p.Value!["value"]?.DeepClone(), StringComparer.OrdinalIgnoreCase);
        return new ArmTemplate(template, parameters);
    }

    /// <summary>The identity whose principal id an expression reads: by symbolic name or by resource id, as Bicep writes either.</summary>
    private static string? PrincipalIdentityName(ArmTemplate template, string principal)
    {
        var symbolic = System.Text.RegularExpressions.Regex.Match(principal, @"^\[reference\('(\w+)'\)\.principalId\]$");
        if (symbolic.Success)
        {
            var identity = template.Resources.Single(x => x.Symbol == symbolic.Groups[1].Value).Resource;
            Assert.Equal("Microsoft.ManagedIdentity/userAssignedIdentities", Type(identity));
            return Text(template.Evaluate(identity["name"]));
        }

        var byId = System.Text.RegularExpressions.Regex.Match(principal, @"^\[reference\((resourceId\('Microsoft\.ManagedIdentity/userAssignedIdentities', (?:[^()]|\([^()]*\))*\)), '[^']*'\)\.principalId\]$");
        Assert.True(byId.Success, $"{template.DeploymentName}: the principal is not a user-assigned identity: {principal}");
        return Text(template.Evaluate(JsonValue.Create("[" + byId.Groups[1].Value + "]")))!.Split('/')[^1];
    }

    /// <summary>The customers' app and the bank staff's operations app (named like it, with -ops).</summary>
    private static (JsonObject Public, JsonObject Operations) PublicAndOperationsApps(ArmTemplate apps)
    {
        var all = apps.Resources.Select(r => r.Resource).Where(r => Type(r) == "Microsoft.App/containerApps").ToList();
        Assert.Equal(2, all.Count);
        var operations = Assert.Single(all, a => Text(apps.Evaluate(a["name"]))!.EndsWith("-ops", StringComparison.Ordinal));
        return (all.Single(a => a != operations), operations);
    }

    private static JsonObject Single(ArmTemplate template, string type) =>
        Assert.Single(template.Resources.Select(r => r.Resource), r => Type(r) == type && r["existing"] is null);

    private static string? Type(JsonObject resource) => ArmTemplate.Text(resource["type"]);

    private static string? Text(JsonNode? node) => ArmTemplate.Text(node);

    private static bool Bool(JsonNode? node) => node is JsonValue v && v.TryGetValue<bool>(out var b)
        ? b
        : throw new Xunit.Sdk.XunitException($"expected a boolean known before deployment, got {node?.ToJsonString() ?? "nothing"}");

    private static int Int(JsonNode? node) => node is JsonValue v && v.TryGetValue<long>(out var l)
        ? (int)l
        : node is JsonValue v2 && v2.TryGetValue<int>(out var i) ? i
        : node is JsonValue v3 && v3.TryGetValue<string>(out var text) && int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var parsed) ? parsed
        : throw new Xunit.Sdk.XunitException($"expected a number known before deployment, got {node?.ToJsonString() ?? "nothing"}");

    private static List<string> Strings(JsonNode? node) => node!.AsArray().Select(n => (string)n!).Order(StringComparer.Ordinal).ToList();
}
