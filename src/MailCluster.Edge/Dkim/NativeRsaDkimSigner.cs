using System.Security.Cryptography;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace MailCluster.Edge.Dkim;

/// <summary>
/// MimeKit's <see cref="DkimSigner"/> (canonicalisation, tag list, header selection all unchanged) with the rsa-sha256
/// private-key operation done by the platform's RSA (OpenSSL on Linux) instead of BouncyCastle's managed one: the same
/// RSASSA-PKCS1-v1_5 over SHA-256 (RFC 6376 §3.3.1), several times faster, and it is the one costly step of signing.
/// Ed25519 keys keep MimeKit's BouncyCastle signer (already fast).
/// </summary>
internal sealed class NativeRsaDkimSigner : DkimSigner
{
    private readonly RSAParameters _parameters;

    public NativeRsaDkimSigner(RsaPrivateCrtKeyParameters key, string domain, string selector)
        : base(key, domain, selector, DkimSignatureAlgorithm.RsaSha256)
    {
        _parameters = DotNetUtilities.ToRSAParameters(key);
    }

    protected override ISigner CreateSigningContext() => new Pkcs1Sha256Signer(_parameters);

    /// <summary>The BouncyCastle signing interface MimeKit feeds the canonicalised headers into, over a platform RSA.</summary>
    private sealed class Pkcs1Sha256Signer(RSAParameters parameters) : ISigner
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public string AlgorithmName => "SHA-256withRSA";

        public void Init(bool forSigning, ICipherParameters parameters)
        {
            // Initialised with its key at construction.
        }

        public void Update(byte input) => _hash.AppendData([input]);

        public void BlockUpdate(byte[] input, int inOff, int inLen) => _hash.AppendData(input, inOff, inLen);

        public void BlockUpdate(ReadOnlySpan<byte> input) => _hash.AppendData(input);

        public int GetMaxSignatureSize() => parameters.Modulus!.Length;

        public byte[] GenerateSignature()
        {
            using var rsa = RSA.Create(parameters);
            var signature = rsa.SignHash(_hash.GetHashAndReset(), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            _hash.Dispose();
            return signature;
        }

        public bool VerifySignature(byte[] signature) => throw new NotSupportedException("Signing only.");

        public void Reset() => _hash.GetHashAndReset();
    }
}
