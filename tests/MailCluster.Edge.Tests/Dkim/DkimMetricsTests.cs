using System.Diagnostics;
using System.Text;
using MailCluster.Edge.Dkim;
using Microsoft.Extensions.Logging.Abstractions;
using MimeKit.Cryptography;
using Xunit;

namespace MailCluster.Edge.Tests.Dkim;

/// <summary>The DKIM counters, and key reloads judged on the file a path resolves to (Kubernetes' symlink swap of a
/// rotated Secret, where the new file may carry the old timestamp and length).</summary>
public sealed class DkimMetricsTests : IDisposable
{
    private readonly DkimTestKeys _keys = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("mc-dkim-reload-").FullName;

    [Fact]
    public void Each_signature_is_counted_by_domain_and_algorithm()
    {
        var metrics = new DkimMetrics(Prometheus.Metrics.WithCustomRegistry(Prometheus.Metrics.NewCustomRegistry()));
        var signing = new DkimSigning(
            [_keys.Add("dual.test", "r1", DkimSignatureAlgorithm.RsaSha256), _keys.Add("dual.test", "e1", DkimSignatureAlgorithm.Ed25519Sha256)], metrics);

        var signatures = signing.Sign([], Encoding.ASCII.GetBytes("From: ann@dual.test\r\nSubject: x\r\n\r\nbody\r\n"), _ => true);

        Assert.NotEmpty(signatures);
        Assert.Equal((1, 1), (metrics.SignedCount("dual.test", DkimSignatureAlgorithm.RsaSha256), metrics.SignedCount("dual.test", DkimSignatureAlgorithm.Ed25519Sha256)));
    }

    [Fact]
    public void A_symlink_swap_to_a_new_key_is_reloaded_and_a_bad_replacement_is_counted_and_ignored()
    {
        // key.pem -> ..data/key.pem, ..data -> ..v1: the layout of a mounted Kubernetes Secret.
        var v1 = WriteVersion("..v1", _keys.Write("v1.pem", DkimSignatureAlgorithm.Ed25519Sha256, out _));
        var v2 = WriteVersion("..v2", _keys.Write("v2.pem", DkimSignatureAlgorithm.Ed25519Sha256, out _));
        File.SetLastWriteTimeUtc(Path.Combine(v2, "key.pem"), File.GetLastWriteTimeUtc(Path.Combine(v1, "key.pem")));
        var data = Path.Combine(_dir, "..data");
        File.CreateSymbolicLink(data, v1);
        var path = Path.Combine(_dir, "key.pem");
        File.CreateSymbolicLink(path, Path.Combine(data, "key.pem"));
        var metrics = new DkimMetrics(Prometheus.Metrics.WithCustomRegistry(Prometheus.Metrics.NewCustomRegistry()));
        var source = new DkimKeySource("rotate.test", "s1", path, DkimSignatureAlgorithm.Ed25519Sha256, NullLogger.Instance, metrics);
        var first = source.Signer;

        Swap(data, v2);
        var second = WaitForSigner(source, s => !ReferenceEquals(s, first));
        Assert.Equal(1, metrics.ReloadCount("rotate.test", loaded: true));

        var v3 = WriteVersion("..v3", null);
        Swap(data, v3);
        var clock = Stopwatch.StartNew();
        while (metrics.ReloadCount("rotate.test", loaded: false) == 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), "the bad replacement was never tried");
            Assert.Same(second, source.Signer);
            Thread.Sleep(100);
        }

        Assert.Same(second, source.Signer);
    }

    public void Dispose()
    {
        _keys.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string WriteVersion(string name, string? keyFile)
    {
        var dir = Directory.CreateDirectory(Path.Combine(_dir, name)).FullName;
        var target = Path.Combine(dir, "key.pem");
        if (keyFile is null)
        {
            File.WriteAllText(target, "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n");
        }
        else
        {
            File.Copy(keyFile, target);
        }

        return dir;
    }

    /// <summary>Points the link at another version (the kubelet renames a new link over the old one; .NET cannot
    /// rename a link to a directory, and the source reads the path at most every 5 s, so delete-then-create is as good here).</summary>
    private static void Swap(string link, string target)
    {
        File.Delete(link);
        File.CreateSymbolicLink(link, target);
    }

    private static DkimSigner WaitForSigner(DkimKeySource source, Func<DkimSigner, bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var signer = source.Signer;
            if (condition(signer))
            {
                return signer;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), "the swapped key was never loaded");
            Thread.Sleep(100);
        }
    }
}
