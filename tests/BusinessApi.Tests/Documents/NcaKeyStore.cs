using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Security;

namespace BusinessApi.Tests.Documents;

/// <summary>
/// Opens an NCA RK key store (PKCS #12 from NCALayer or Kalkan) the way ../shared/DOMAIN.md describes:
/// BouncyCastle's <c>Pkcs12Store</c> refuses the Kazakh key OID, so the shrouded key bag is decrypted on its own
/// (the key is an OCTET STRING holding the private scalar, little-endian) and the certificate read from the
/// password-encrypted certificate bag.
/// </summary>
public static class NcaKeyStore
{
    public static TestSigner Open(byte[] p12, string password)
    {
        var pfx = Pfx.GetInstance(Asn1Object.FromByteArray(p12));
        var safe = AuthenticatedSafe.GetInstance(Asn1Object.FromByteArray(Asn1OctetString.GetInstance(pfx.AuthSafe.Content).GetOctets()));
        var secret = password.ToCharArray();
        byte[]? scalar = null;
        X509Certificate2? certificate = null;
        foreach (var content in safe.GetContentInfo())
        {
            Asn1Sequence bags;
            if (content.ContentType.Equals(PkcsObjectIdentifiers.EncryptedData))
            {
                var encrypted = EncryptedData.GetInstance(content.Content);
                var cipher = (IBufferedCipher)PbeUtilities.CreateEngine(encrypted.EncryptionAlgorithm.Algorithm);
                cipher.Init(false, PbeUtilities.GenerateCipherParameters(encrypted.EncryptionAlgorithm.Algorithm, secret, false, encrypted.EncryptionAlgorithm.Parameters));
                bags = Asn1Sequence.GetInstance(Asn1Object.FromByteArray(cipher.DoFinal(encrypted.Content.GetOctets())));
            }
            else
            {
                bags = Asn1Sequence.GetInstance(Asn1Object.FromByteArray(Asn1OctetString.GetInstance(content.Content).GetOctets()));
            }

            foreach (var entry in bags)
            {
                var bag = SafeBag.GetInstance(entry);
                if (bag.BagID.Equals(PkcsObjectIdentifiers.Pkcs8ShroudedKeyBag))
                {
                    var key = Org.BouncyCastle.Pkcs.PrivateKeyInfoFactory.CreatePrivateKeyInfo(secret, EncryptedPrivateKeyInfo.GetInstance(bag.BagValue));
                    scalar = Asn1OctetString.GetInstance(Asn1Object.FromByteArray(key.PrivateKey.GetOctets())).GetOctets();
                }
                else if (bag.BagID.Equals(PkcsObjectIdentifiers.CertBag))
                {
                    certificate = X509CertificateLoader.LoadCertificate(Asn1OctetString.GetInstance(CertBag.GetInstance(bag.BagValue).CertValue).GetOctets());
                }
            }
        }

        var gost2015 = certificate!.PublicKey.Oid.Value == "1.2.398.3.10.1.1.2.2";
        return new TestSigner(certificate, new GostKey(scalar!, gost2015));
    }
}
