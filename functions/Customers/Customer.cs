using System.Security.Cryptography;

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

    /// <summary>A new random id: <c>cus_</c> and 20 hex digits.</summary>
    public static string NewId() => "cus_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10));

    public static bool IsWellFormedId(string? id) =>
        id is { Length: 24 } && id.StartsWith("cus_", StringComparison.Ordinal) && !id.AsSpan(4).ContainsAnyExcept(HexDigits);
}
