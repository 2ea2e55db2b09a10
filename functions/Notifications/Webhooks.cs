using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using BusinessApi.Platform.Secrets;

namespace BusinessApi.Notifications;

/// <summary>A customer's webhook: where notices of the chosen kinds are POSTed, signed with the subscription's own secret.</summary>
public sealed record WebhookSubscription(string WebhookId, string CustomerId, Uri Url, IReadOnlyList<string> Events, DateTimeOffset CreatedAt)
{
    /// <summary>The version of the vault key the signing secret derives from (with <see cref="Generation"/>).</summary>
    public string KeyVersion { get; init; } = "";

    /// <summary>Raised by each secret rotation; the secret of an older generation no longer signs.</summary>
    public int Generation { get; init; } = 1;

    public string CreatedBy { get; init; } = "";

    /// <summary>The last delivery attempt to this webhook: when, how it ended (<c>delivered</c>, <c>failed</c>, <c>deadLettered</c>), the receiver's status or the error.</summary>
    public WebhookAttempt? LastAttempt { get; init; }

    /// <summary>When this webhook last acknowledged a notice.</summary>
    public DateTimeOffset? LastDeliveredAt { get; init; }

    public const string AllEvents = "*";

    public bool Receives(string kind) => Events.Contains(AllEvents, StringComparer.Ordinal) || Events.Contains(kind, StringComparer.Ordinal);

    /// <summary>A new id: <c>whk_</c> and 16 hex digits.</summary>
    public static string NewId() => "whk_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    public static bool IsWellFormedId(string? id) =>
        id is { Length: 20 } && id.StartsWith("whk_", StringComparison.Ordinal) && id[4..].All(char.IsAsciiHexDigitLower);

    public TableEntity ToEntity() => new(CustomerId, NoticeStore.WebhookPrefix + WebhookId)
    {
        ["Url"] = Url.AbsoluteUri,
        ["Events"] = string.Join(' ', Events),
        ["CreatedAt"] = CreatedAt,
        ["CreatedBy"] = CreatedBy,
        ["KeyVersion"] = KeyVersion,
        ["Generation"] = Generation,
    };

    public static WebhookSubscription FromEntity(TableEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        return new WebhookSubscription(
            entity.RowKey[NoticeStore.WebhookPrefix.Length..],
            entity.PartitionKey,
            new Uri(entity.GetString("Url") ?? "about:blank"),
            (entity.GetString("Events") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries),
            entity.GetDateTimeOffset("CreatedAt") ?? default)
        {
            KeyVersion = entity.GetString("KeyVersion") ?? "",
            Generation = entity.GetInt32("Generation") ?? 1,
            CreatedBy = entity.GetString("CreatedBy") ?? "",
            LastAttempt = entity.GetDateTimeOffset("LastAttemptAt") is { } at
                ? new WebhookAttempt(at, entity.GetString("LastOutcome") ?? "", entity.GetInt32("LastStatus"), entity.GetString("LastError") is { Length: > 0 } error ? error : null)
                : null,
            LastDeliveredAt = entity.GetDateTimeOffset("LastDeliveredAt"),
        };
    }
}

public sealed record WebhookAttempt(DateTimeOffset At, string Outcome, int? Status, string? Error);

/// <summary>
/// Webhook signatures in the Standard Webhooks scheme (standardwebhooks.com), so receivers can use a stock
/// library: headers <c>webhook-id</c>, <c>webhook-timestamp</c> (Unix seconds) and
/// <c>webhook-signature: v1,{base64 HMAC-SHA256 over "{id}.{timestamp}.{body}"}</c>, keyed with the
/// base64-decoded part of the secret after <c>whsec_</c>. A subscription's secret is derived from the vault
/// key <c>webhook-signing-key</c> (its version is kept with the subscription), its id and its generation, so no
/// secret is stored anywhere.
/// </summary>
public sealed class WebhookSigner(ISecretStore secrets)
{
    public const string KeyName = "webhook-signing-key";
    public const string SecretPrefix = "whsec_";

    public async ValueTask<string> CurrentKeyVersionAsync(CancellationToken cancellationToken) =>
        (await secrets.GetCurrentAsync(KeyName, cancellationToken)).Version;

    /// <summary>The subscription's signing secret, as shown to the customer (<c>whsec_…</c>).</summary>
    public async ValueTask<string> SecretAsync(WebhookSubscription webhook, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(webhook);
        var key = await secrets.GetVersionAsync(KeyName, webhook.KeyVersion, cancellationToken);
        var derived = HMACSHA256.HashData(Encoding.UTF8.GetBytes(key.Value),
            Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"webhook:{webhook.CustomerId}:{webhook.WebhookId}:{webhook.Generation}")));
        return SecretPrefix + Convert.ToBase64String(derived);
    }

    /// <summary>The <c>webhook-signature</c> header value for a body sent with <paramref name="messageId"/> at <paramref name="timestamp"/>.</summary>
    public static string Sign(string secret, string messageId, long timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var key = Convert.FromBase64String(secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret);
        var prefix = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{messageId}.{timestamp}."));
        var content = new byte[prefix.Length + body.Length];
        prefix.CopyTo(content, 0);
        body.CopyTo(content.AsSpan(prefix.Length));
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, content));
    }
}

/// <summary>Which webhook URLs are acceptable: HTTPS with a host name or public address; plain HTTP only to loopback, and only where allowed (development, tests).</summary>
public static class WebhookUrls
{
    public const int MaxLength = 500;

    public static string? Problem(string? url, bool allowLoopbackHttp)
    {
        if (string.IsNullOrWhiteSpace(url) || url.Length > MaxLength || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return "invalid_url";
        }

        if (!string.IsNullOrEmpty(uri.UserInfo) || !string.IsNullOrEmpty(uri.Fragment))
        {
            return "invalid_url";
        }

        var loopback = uri.IsLoopback;
        if (uri.Scheme == Uri.UriSchemeHttp)
        {
            return loopback && allowLoopbackHttp ? null : "https_required";
        }

        if (uri.Scheme != Uri.UriSchemeHttps)
        {
            return "https_required";
        }

        // Receivers are the customer's own servers on the internet, never addresses inside the bank.
        if (!allowLoopbackHttp && (loopback || (IPAddress.TryParse(uri.DnsSafeHost, out var address) && IsPrivate(address))))
        {
            return "private_address";
        }

        return null;
    }

    /// <summary>Loopback, private, link-local, carrier-grade NAT and unspecified addresses: never a customer's public receiver.</summary>
    public static bool IsPrivate(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal || IPAddress.IsLoopback(address) || address.Equals(IPAddress.IPv6Any);
        }

        var b = address.GetAddressBytes();
        return b[0] is 10 or 127 or 0 || (b[0] == 172 && b[1] is >= 16 and <= 31) || (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254)
            || (b[0] == 100 && b[1] is >= 64 and <= 127);
    }
}

/// <summary>Settings of the communication channel (appsettings.json <c>notifications</c>).</summary>
public sealed class NotificationOptions
{
    public const string Section = "Notifications";

    /// <summary>Webhooks to <c>http://127.0.0.1…</c> (development and tests); production requires HTTPS to public addresses.</summary>
    public bool AllowLoopbackHttp { get; set; }

    [Range(1, 100)]
    public int MaxWebhooksPerCustomer { get; set; } = 10;

    /// <summary>One delivery attempt's limit.</summary>
    [Range(1, 60)]
    public int DeliveryTimeoutSeconds { get; set; } = 10;

    public TimeSpan DeliveryTimeout => TimeSpan.FromSeconds(DeliveryTimeoutSeconds);

    /// <summary>How long a failing delivery is retried before it is dead-lettered (at least 24 hours).</summary>
    [Range(24, 720)]
    public int RetryHours { get; set; } = 24;

    /// <summary>The first retry's delay; each next one doubles, up to <see cref="MaxRetryDelayMinutes"/>.</summary>
    [Range(1, 3600)]
    public int FirstRetrySeconds { get; set; } = 5;

    [Range(1, 1440)]
    public int MaxRetryDelayMinutes { get; set; } = 120;

    /// <summary>How far the receiver's clock may be from ours when it checks <c>webhook-timestamp</c> (documented for receivers).</summary>
    [Range(30, 3600)]
    public int SignatureToleranceSeconds { get; set; } = 300;
}
