using System.Text.Json;
using Azure;
using Azure.Storage.Blobs.Models;
using BusinessApi.Calendar;
using BusinessApi.Platform;
using BusinessApi.Platform.Storage;

namespace BusinessApi.Accounts.Settlement;

/// <summary>
/// A message to another bank through the interbank settlement system: a refund's notice on return of money (clause 8.2),
/// or a foreign-currency payment order to be sent on. The bank's connector to the settlement system formats and sends it.
/// </summary>
public sealed record SettlementMessage(
    string MessageId, string Type, DateTimeOffset CreatedAt, string BeneficiaryBic, string BeneficiaryIban, string BeneficiaryName,
    string PayerBic, string PayerIban, string DocumentId, string DocumentNumber, DateOnly DocumentDate, decimal Amount, string Currency, string ReportKind, string Reason)
{
    /// <summary>A payment's purpose code (КНП) and text, as signed.</summary>
    public string? PurposeCode { get; init; }

    public string? Purpose { get; init; }

    public string? PayerName { get; init; }

    public string? PayerIdn { get; init; }

    public string? BeneficiaryIdn { get; init; }

    /// <summary>The beneficiary's country, for a bank abroad.</summary>
    public string? BeneficiaryCountry { get; init; }

    /// <summary>The contract a payment to a non-resident is made under (currency control).</summary>
    public SettlementContract? Contract { get; init; }
}

/// <summary>A contract as currency control names it: number, date, and the registration number the serving bank gave it.</summary>
public sealed record SettlementContract(string? Number, DateOnly? Date, string? RegistrationNumber);

/// <summary>Sends messages to other banks. Must be idempotent by <see cref="SettlementMessage.MessageId"/>: a step may send twice.</summary>
public interface ISettlementGateway
{
    Task SendAsync(SettlementMessage message, CancellationToken cancellationToken);
}

/// <summary>
/// The file adapter: each message is written once as JSON to blob container <c>settlement-outbox</c>
/// (<c>{yyyy-MM-dd}/{messageId}.json</c>), where the settlement system's connector picks it up. A second write of
/// the same id leaves the first in place.
/// </summary>
public sealed class BlobSettlementGateway(StorageResources storage) : ISettlementGateway
{
    public const string ContainerName = "settlement-outbox";

    public static string PathOf(SettlementMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return $"{message.CreatedAt.ToOffset(KazakhstanTime.Offset):yyyy-MM-dd}/{message.MessageId}.json";
    }

    public async Task SendAsync(SettlementMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var blob = storage.Container(ContainerName).GetBlobClient(PathOf(message));
        try
        {
            await blob.UploadAsync(BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(message, PlatformExtensions.JsonOptions)),
                new BlobUploadOptions
                {
                    Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                    HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                }, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // sent already (an earlier attempt of the step)
        }
    }
}
