using BusinessApi.Credentials;
using BusinessApi.Customers;
using BusinessApi.Documents.Signatures;
using BusinessApi.Platform.Caching;
using BusinessApi.Platform.Http;
using BusinessApi.Users;
using Microsoft.Extensions.Options;

namespace BusinessApi.Documents;

/// <summary>What verification decided about a document, with the signer it found whatever the outcome.</summary>
public abstract record Verdict(SignatureFacts? Signer)
{
    /// <summary>Identified, authenticated and well formed: the order may be executed.</summary>
    public sealed record Accepted(ISignedOrder Order, SignatureFacts Facts) : Verdict(Facts)
    {
        /// <summary>The signed content (the order's JSON), kept when more signatures are needed over it.</summary>
        public byte[] Content { get; init; } = [];
    }

    /// <summary>Refused with the reason code, the failure beside it, and field errors when the form was wrong.</summary>
    public sealed record Refused(string ReasonCode, string? Failure, IReadOnlyList<FieldError> Errors, SignatureFacts? Facts) : Verdict(Facts);
}

/// <summary>
/// The <c>verify</c> step's decision, in the order the terms set: the EDS (CMS signature, time-stamp, chain,
/// validity, a signing key, OCSP or CRL); the signer is the signed-in user, of this customer, with a role that may
/// sign payments, with a certificate neither the bank nor the customer has blocked; the Client ID was not reported
/// compromised before receipt; the rules of form; the signer still holds the sign power on the
/// payer account; and the payer's number is this order's alone. Nothing here moves money: only the number claim writes.
/// </summary>
public sealed class DocumentVerification(
    SignatureService signatureService, UserService users, CustomerStore customers, CredentialService credentials, DocumentStore store,
    PaymentOrderValidation validation, CertificateBlocks blocks, IOptions<SignatureOptions> signatures, TimeProvider time, SpecimenCardStore cards)
{
    // The customer's carded accounts as of the receipt or later, shared like the reads below: a card put on an account
    // before the document came in is seen; the account's own card rows are read only when the index names it.
    private readonly FreshReads<string, IReadOnlySet<string>?> _carded = new(time, 10_000, cards.CardedAccountsAsync, StringComparer.Ordinal);

    // The pair's state and the certificate's blocks as of the receipt or later: documents received before a read
    // started share it, whichever instance registered a report; no document is judged on a read older than its receipt.
    private readonly FreshReads<string, StoredCredential?> _credentials = new(time, 10_000, credentials.GetAsync, StringComparer.Ordinal);
    private readonly FreshReads<(string Issuer, string Serial, string? Iin), IReadOnlyList<CertificateBlock>> _blocks =
        new(time, 10_000, (key, cancellationToken) => blocks.FindAsync(key.Issuer, key.Serial, key.Iin, cancellationToken));

    /// <summary>
    /// Judges the document. <paramref name="freshAfter"/> is the instant, on this process's clock, after which the pair's
    /// and the certificate's state must have been read: the receipt when this process took the document in, else now.
    /// </summary>
    public async Task<Verdict> VerifyAsync(Document document, byte[] cms, DateTimeOffset freshAfter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(document);
        var check = await signatureService.VerifyAsync(SignedMessage.TryParse(cms), document.ReceivedAt, cancellationToken);
        if (!check.IsValid)
        {
            return Refuse(RefusalReasons.AuthenticationFailed, check.Failure, check.Facts);
        }

        // Users and customers are read as sessions read them (trusted for a few seconds per instance); the pair and the
        // certificate's blocks are read as of the receipt or later, because a compromise statement registered before
        // receipt must void the document even when it was made through another instance a moment ago.
        var userRead = users.GetCachedAsync(document.UserId, cancellationToken).AsTask();
        var customerRead = customers.GetCachedAsync(document.CustomerId, cancellationToken).AsTask();
        var credentialRead = _credentials.GetAsync(document.ClientId, freshAfter, cancellationToken);
        var blockRead = _blocks.GetAsync((check.Facts!.Issuer, check.Facts.SerialNumber, check.Facts.SignerIin), freshAfter, cancellationToken);
        await Task.WhenAll(userRead, customerRead, credentialRead, blockRead);
        var user = (await userRead)?.User;
        var customer = await customerRead;
        var facts = check.Facts!;
        if ((SignedInstructions.IdentityFailure(facts, user?.CustomerId == document.CustomerId ? user.Iin : null, customer, signatures.Value)
            ?? SignedInstructions.RoleFailure(facts, customer, signatures.Value)) is { } identityFailure)
        {
            return Refuse(RefusalReasons.AuthenticationFailed, identityFailure, facts);
        }

        // A certificate reported compromised signs nothing not yet executed; one the bank blocked on the customer's
        // call signs nothing received after the block.
        var found = await blockRead;
        if (found.Any(b => b.IsCompromise))
        {
            return Refuse(RefusalReasons.CredentialsCompromised, SignatureFailures.CredentialsCompromised, facts);
        }

        if (found.Any(b => !b.IsCompromise && b.BlockedAt <= document.ReceivedAt))
        {
            return Refuse(RefusalReasons.AuthenticationFailed, SignatureFailures.CertificateBlocked, facts);
        }

        var credential = (await credentialRead)?.Credential;
        if (credential is { Status: CredentialStatus.BlockedCompromised, StatusChangedAt: { } reportedAt } && reportedAt <= document.ReceivedAt)
        {
            return Refuse(RefusalReasons.CredentialsCompromised, SignatureFailures.CredentialsCompromised, facts);
        }

        var (order, errors) = await validation.ValidateAsync(document, check.Content!, customer, cancellationToken);
        if (order is null)
        {
            return new Verdict.Refused(RefusalReasons.InvalidDocument, errors[0].Code, errors, facts);
        }

        if (!user!.MaySignAt(order.DebitIban, document.ReceivedAt))
        {
            return Refuse(RefusalReasons.AuthenticationFailed, SignatureFailures.NoSigningAuthority, facts);
        }

        // One payment order per payer account, number and date while it lives: a second one (a re-signed copy
        // included) is refused, never executed twice. Claimed before any effect, so a lost race moves no money.
        if (await store.ClaimNumberAsync(document, order.NumberScope, order.IssuedOn, order.Number, cancellationToken) is { } holder)
        {
            return new Verdict.Refused(RefusalReasons.InvalidDocument, DocumentFailures.DuplicateNumber,
                [new FieldError("number", DocumentFailures.DuplicateNumber, [holder])], facts);
        }

        return new Verdict.Accepted(order, facts) { Content = check.Content! };
    }

    /// <summary>The customer's accounts with a specimen card, per its index read as of <paramref name="freshAfter"/>; null: any may have one.</summary>
    public Task<IReadOnlySet<string>?> CardedAccountsAsync(string customerId, DateTimeOffset freshAfter, CancellationToken cancellationToken) =>
        _carded.GetAsync(customerId, freshAfter, cancellationToken);

    private static Verdict.Refused Refuse(string reasonCode, string? failure, SignatureFacts? facts) => new(reasonCode, failure, [], facts);
}
