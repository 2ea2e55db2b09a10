using System.Security.Cryptography;
using BusinessApi.Customers;

namespace BusinessApi.Documents.Signatures;

/// <summary>What identifies a signed instruction, whatever envelope it travels in, and who may have signed it.</summary>
public static class SignedInstructions
{
    /// <summary>
    /// R-11 and NCA RK's profile: the signer is the signed-in user (the certificate's IIN is the user's); an
    /// organisation certificate is of the user's customer (its BIN is the customer's); a legal entity signs with
    /// an organisation certificate (<see cref="SignatureOptions.RequireOrganisationBin"/>; an individual entrepreneur
    /// signs with a personal one), and its payment documents with the role of first head or the right of
    /// (financial) signature (<see cref="SignatureOptions.RequireSigningRole"/>). Null when all holds, else the failure code.
    /// </summary>
    public static string? IdentityFailure(SignatureFacts signer, string? userIin, Customer? customer, SignatureOptions options)
    {
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentNullException.ThrowIfNull(options);
        var legalEntity = customer is { IsIndividualEntrepreneur: false };
        var roles = signer.Roles ?? [];
        var claimsOrganisation = roles.Any(r => r != NcaOids.RoleName(NcaOids.RoleIndividual));
        if (userIin is null || signer.SignerIin != userIin)
        {
            return SignatureFailures.SignerMismatch;
        }

        if (signer.SignerBin is { } bin)
        {
            return bin != customer?.Bin ? SignatureFailures.OrganisationMismatch : null;
        }

        if (options.RequireOrganisationBin && (legalEntity || claimsOrganisation))
        {
            return SignatureFailures.OrganisationBinMissing;
        }

        return null;
    }

    /// <summary>Whether the certificate's role may sign a legal entity's payment documents (the roles are by name, as in <see cref="SignatureFacts.Roles"/>).</summary>
    public static string? RoleFailure(SignatureFacts signer, Customer? customer, SignatureOptions options)
    {
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentNullException.ThrowIfNull(options);
        return options.RequireSigningRole && customer is { IsIndividualEntrepreneur: false }
            && !(signer.Roles ?? []).Any(r => NcaOids.PaymentSigningRoles.Any(p => NcaOids.RoleName(p) == r))
            ? SignatureFailures.SigningRoleMissing
            : null;
    }

    /// <summary>
    /// The SHA-256 of the signature values of every SignerInfo, in a fixed order. Re-encoding the CMS, reordering
    /// or adding certificates, or adding unsigned attributes leaves it unchanged, so the same signed instruction
    /// cannot be replayed in a new envelope; a fresh signature over the same content is a new instruction (the
    /// payer's document number stops that one). A CMS with no SignerInfo (refused later) is identified by its bytes.
    /// </summary>
    public static string Fingerprint(SignedMessage envelope, ReadOnlySpan<byte> cms)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        if (envelope.Signers.Count == 0)
        {
            return "cms-" + Convert.ToHexStringLower(SHA256.HashData(cms));
        }

        var signatures = envelope.Signers.Select(s => s.Signature).ToList();

        signatures.Sort((a, b) => a.AsSpan().SequenceCompareTo(b));
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[4];
        foreach (var signature in signatures)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, signature.Length);
            hash.AppendData(length);
            hash.AppendData(signature);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
