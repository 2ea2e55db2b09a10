using System.Diagnostics.CodeAnalysis;
using System.Security.Claims;
using Azure.Data.Tables;
using BusinessApi.Accounts.Ledger;
using BusinessApi.Customers;
using BusinessApi.Platform.Caching;
using BusinessApi.Platform.Http;
using BusinessApi.Platform.Storage;
using Microsoft.Extensions.Options;

namespace BusinessApi.Accounts;

/// <summary>
/// Which accounts belong to which customer. The ledger head carries the owner (the truth); this index
/// (customer → accounts) serves <c>GET /accounts</c> with one partition read.
/// </summary>
public sealed class AccountDirectory(StorageResources storage, Ledger.Ledger ledger, IOptions<LedgerOptions> options)
{
    public const string TableName = "CustomerAccounts";
    private const int MaxCachedCustomers = 20_000;

    private readonly TableClient _index = storage.Table(TableName);

    // Which accounts a customer has, for LedgerOptions.DirectoryCacheSeconds; an opening in this process drops it.
    // Safe across instances: another instance's opening shows within DirectoryCacheSeconds (real time).
    private readonly BoundedCache<string, IReadOnlyList<LedgerAccountId>> _owned = new(TimeProvider.System, MaxCachedCustomers,
        TimeSpan.FromSeconds(options.Value.DirectoryCacheSeconds), StringComparer.Ordinal);

    /// <summary>Opens the account, or answers the account already under this IBAN (<c>Created</c> false).</summary>
    public async Task<(bool Created, AccountState State)> OpenAsync(string customerId, Iban iban, Currency currency, DateOnly openedOn, CancellationToken cancellationToken)
    {
        var head = new AccountState
        {
            Id = LedgerAccountId.ForIban(iban),
            Kind = LedgerAccountKind.Customer,
            Currency = currency,
            Iban = iban.Value,
            CustomerId = customerId,
            OpenedOn = openedOn,
        };
        var (created, state) = await ledger.OpenAsync(head, cancellationToken);
        if (state.CustomerId == customerId)
        {
            // Written after the head, and again on a retry, so an interrupted opening completes.
            await _index.UpsertEntityAsync(new TableEntity(customerId, state.Id.Value) { ["Iban"] = iban.Value }, TableUpdateMode.Replace, cancellationToken);
            _owned.Remove(customerId);
        }

        return (created, state);
    }

    /// <summary>
    /// The customer's accounts as information services show them, in IBAN order. The list of accounts is
    /// cached for <see cref="LedgerOptions.DirectoryCacheSeconds"/> and each account's view as
    /// <see cref="Ledger.Ledger.GetAccountViewAsync"/> says.
    /// </summary>
    public async Task<IReadOnlyList<AccountView>> ListViewsAsync(string customerId, CancellationToken cancellationToken)
    {
        if (!_owned.TryGet(customerId, out var owned))
        {
            var ids = new List<LedgerAccountId>();
            await foreach (var row in _index.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {customerId}"), select: ["RowKey"], cancellationToken: cancellationToken))
            {
                if (LedgerAccountId.TryParse(row.RowKey, out var id))
                {
                    ids.Add(id);
                }
            }

            owned = ids;
            _owned.Set(customerId, owned);
        }

        var views = await Task.WhenAll(owned.Select(id => ledger.GetAccountViewAsync(id, cancellationToken)));
        return [.. views.OfType<AccountView>().Where(v => v.State.CustomerId == customerId).OrderBy(v => v.State.Iban, StringComparer.Ordinal)];
    }

    /// <summary>The account under <paramref name="iban"/> as information services show it, when it is the caller's (else null, as for a missing one).</summary>
    public async Task<AccountView?> FindViewForCallerAsync(Iban iban, ClaimsPrincipal caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var customerId = caller.CustomerId();
        return customerId is not null && caller.MayAccessAccount(iban.Value) && await ledger.GetAccountViewAsync(LedgerAccountId.ForIban(iban), cancellationToken) is { } view && view.State.CustomerId == customerId
            ? view
            : null;
    }

    /// <summary>
    /// For the bank's endpoints: the account under an IBAN taken from the path, or the answer to give
    /// instead (400 for a malformed IBAN, 404 when there is no such account).
    /// </summary>
    public async Task<AccountLookup> LookupAsync(string iban, CancellationToken cancellationToken)
    {
        if (!Iban.TryParse(iban, out var parsed))
        {
            return new AccountLookup(null, default, InformationServices.InvalidIban());
        }

        return await FindAsync(parsed, cancellationToken) is { } state
            ? new AccountLookup(state, parsed, null)
            : new AccountLookup(null, parsed, ProblemResult.For(new ApiProblem(PlatformProblems.NotFound)));
    }

    /// <summary>The account under <paramref name="iban"/>, if it exists.</summary>
    public Task<AccountState?> FindAsync(Iban iban, CancellationToken cancellationToken) =>
        ledger.GetAccountAsync(LedgerAccountId.ForIban(iban), cancellationToken);

    /// <summary>
    /// The account as the calling customer may see it: another customer's account is reported exactly
    /// like a missing one, so an IBAN's existence never leaks.
    /// </summary>
    public async Task<AccountState?> FindForCallerAsync(Iban iban, ClaimsPrincipal caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var customerId = caller.CustomerId();
        if (customerId is null)
        {
            return null;
        }

        if (!caller.MayAccessAccount(iban.Value))
        {
            return null;
        }

        var state = await FindAsync(iban, cancellationToken);
        return state?.CustomerId == customerId ? state : null;
    }
}

/// <summary>An account found by IBAN, or the problem to answer when it was not.</summary>
public readonly record struct AccountLookup(AccountState? Account, Iban Iban, ProblemResult? Problem)
{
    [MemberNotNullWhen(true, nameof(Account))]
    [MemberNotNullWhen(false, nameof(Problem))]
    public bool Found => Account is not null;
}
