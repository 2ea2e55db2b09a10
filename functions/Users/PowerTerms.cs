using BusinessApi.Calendar;
using BusinessApi.Platform.Storage;
using Microsoft.Extensions.Options;

namespace BusinessApi.Users;

/// <summary>
/// The due index of powers with a term (table <c>PowerTerms</c>): a user's powers (<see cref="UserPowers.ValidUntil"/>)
/// and a signer's power on an account's specimen card, each filed under the local day its holder's admins are to
/// be told it ends. The job that tells them re-reads the power, so a term extended or ended since is not announced.
/// </summary>
public sealed class PowerTerms(StorageResources storage, TimeProvider time, IOptions<UserOptions> options)
{
    public const string TableName = "PowerTerms";

    public DueIndex Due { get; } = new(storage.Table(TableName));

    /// <summary>How many days ahead of a power's end its holder's admins are told.</summary>
    public int NoticeDays => options.Value.PowerExpiryNoticeDays;

    public static string UserKey(string userId) => "u|" + userId;

    public static string CardKey(string customerId, string iban, string userId) => string.Join('|', "c", customerId, iban, userId);

    /// <summary>Files a power ending at <paramref name="validUntil"/> (nothing when it has no term or has ended).</summary>
    public async Task ScheduleAsync(string key, DateTimeOffset? validUntil, CancellationToken cancellationToken)
    {
        if (validUntil is { } until && until > time.GetUtcNow())
        {
            await Due.PutAsync(KazakhstanTime.LocalDate(until.AddDays(-NoticeDays)), key, cancellationToken);
        }
    }
}
