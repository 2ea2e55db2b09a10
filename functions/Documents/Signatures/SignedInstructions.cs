using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;

namespace BusinessApi.Documents.Signatures;

/// <summary>What identifies a signed instruction, whatever envelope it travels in, and who may have signed it.</summary>
public static class SignedInstructions
{
    /// <summary>
    /// the signer is the signed-in user (the certificate's IIN is the user's) and, for an organisation
    /// certificate, of the user's customer (its BIN is the customer's). Null when so, else the failure code.
    /// </summary>
    public static string? IdentityFailure(SignatureFacts signer, string? userIin, string? customerBin)
    {
        ArgumentNullException.ThrowIfNull(signer);
        return userIin is null || signer.SignerIin != userIin ? SignatureFailures.SignerMismatch
            : signer.SignerBin is { } bin && bin != customerBin ? SignatureFailures.OrganisationMismatch
            : null;
    }

    /// <summary>
    /// The SHA-256 of the signature values of every SignerInfo, in a fixed order. Re-encoding the CMS, reordering
    /// or adding certificates, or adding unsigned attributes leaves it unchanged, so the same signed instruction
    /// cannot be replayed in a new envelope; a fresh signature over the same content is a new instruction (the
    /// payer's document number stops that one). A CMS with no SignerInfo (refused later) is identified by its bytes.
    /// </summary>
    public static string Fingerprint(SignedCms envelope, ReadOnlySpan<byte> cms)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        if (envelope.SignerInfos.Count == 0)
        {
            return "cms-" + Convert.ToHexStringLower(SHA256.HashData(cms));
        }

        var signatures = new List<byte[]>(envelope.SignerInfos.Count);
        foreach (var signer in envelope.SignerInfos)
        {
            signatures.Add(signer.GetSignature());
        }

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
