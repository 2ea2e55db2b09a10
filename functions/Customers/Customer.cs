using System.Security.Cryptography;
using BusinessApi.Calendar;

namespace BusinessApi.Customers;

/// <summary>Whether the bank serves a customer through the API: suspension and termination come from the terms (R-06, and the notices issue).</summary>
public enum CustomerStatus
{
    Active,
    Suspended,
    Terminated,
}

/// <summary>
/// A business client of the bank. <see cref="Bin"/> holds the registration number it is known by: a
/// BIN for a legal entity, or the IIN of an individual entrepreneur (both are 12 digits with the same
/// control digit, decree 565).
/// </summary>
public sealed record Customer(string CustomerId, string Name, string Bin, CustomerStatus Status, DateTimeOffset CreatedAt)
{
    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdef");

    public bool IsIndividualEntrepreneur { get; init; }

    public DateTimeOffset? StatusChangedAt { get; init; }

    /// <summary>Why and since when the bank stopped the electronic services; null when they run.</summary>
    public Suspension? Suspension { get; init; }

    /// <summary>The end of the API service, scheduled or past; null when none is.</summary>
    public Termination? Termination { get; init; }

    /// <summary>
    /// What the bank serves this customer at <paramref name="now"/>: termination counts from its effective date
    /// even before the termination workflow has run, so nothing is accepted from that date whatever the workflow's lag.
    /// </summary>
    public CustomerStatus StatusAt(DateTimeOffset now) =>
        Status == CustomerStatus.Terminated || (Termination is { } t && KazakhstanTimeOf(now) >= t.EffectiveDate) ? CustomerStatus.Terminated
        : Suspension is not null || Status == CustomerStatus.Suspended ? CustomerStatus.Suspended
        : CustomerStatus.Active;

    private static DateOnly KazakhstanTimeOf(DateTimeOffset now) => DateOnly.FromDateTime(now.ToOffset(KazakhstanTime.Offset).DateTime);

    /// <summary>A new random id: <c>cus_</c> and 20 hex digits.</summary>
    public static string NewId() => "cus_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10));

    public static bool IsWellFormedId(string? id) =>
        id is { Length: 24 } && id.StartsWith("cus_", StringComparison.Ordinal) && !id.AsSpan(4).ContainsAnyExcept(HexDigits);
}

/// <summary>Why the bank suspends a customer's electronic services (clauses 5.2.1, 5.2.4).</summary>
public static class SuspensionReasons
{
    /// <summary>Suspicion or fact of unauthorised access (5.2.1): everything stops, reads too, until cleared.</summary>
    public const string UnauthorizedAccess = "unauthorizedAccess";

    /// <summary>The customer reported unauthorised access or suspicion of it (4.3, 6.1.12): as above, from the customer's own report.</summary>
    public const string SecurityIncident = "securityIncident";

    /// <summary>The customer broke the terms of the service (5.2.4 a): payments stop, reads continue.</summary>
    public const string Breach = "breach";

    /// <summary>Software, network or hardware faults (5.2.4 b): payments stop, reads continue.</summary>
    public const string TechnicalFault = "technicalFault";

    /// <summary>Other grounds of the contract or the law (5.2.4 c, 5.2.6).</summary>
    public const string Other = "other";

    public static readonly IReadOnlyList<string> All = [UnauthorizedAccess, SecurityIncident, Breach, TechnicalFault, Other];

    /// <summary>Whether information services stop too (only where access itself is in doubt).</summary>
    public static bool BlocksReads(string reason) => reason is UnauthorizedAccess or SecurityIncident;
}

/// <param name="DiscoveredAt">When the grounds were found: the notice is due by the end of the next working day (5.2.1, 5.2.4).</param>
public sealed record Suspension(string Reason, DateTimeOffset Since, DateTimeOffset DiscoveredAt, string By, string? Comment)
{
    public bool BlocksReads => SuspensionReasons.BlocksReads(Reason);
}

/// <param name="Initiator"><c>customer</c> (6.2.6) or <c>bank</c> (5.2.7).</param>
public sealed record Termination(DateOnly EffectiveDate, string Initiator, DateTimeOffset RequestedAt, string RequestedBy, string? Reason);
