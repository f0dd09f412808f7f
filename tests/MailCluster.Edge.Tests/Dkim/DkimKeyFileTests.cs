using MailCluster.Edge.Dkim;
using MimeKit.Cryptography;
using Xunit;

namespace MailCluster.Edge.Tests.Dkim;

/// <summary>Start-up key checks (<see cref="DkimKeyFile"/>, <see cref="DkimHosting.Problems"/>) and the keygen command.</summary>
public sealed class DkimKeyFileTests : IDisposable
{
    private readonly DkimTestKeys _keys = new();

    public void Dispose() => _keys.Dispose();

    [Fact]
    public void Generated_keys_load_for_their_algorithm_only()
    {
        var rsa = _keys.Write("rsa.pem", DkimSignatureAlgorithm.RsaSha256, out _);
        var ed = _keys.Write("ed.pem", DkimSignatureAlgorithm.Ed25519Sha256, out _);

        DkimKeyFile.Load(rsa, DkimSignatureAlgorithm.RsaSha256);
        DkimKeyFile.Load(ed, DkimSignatureAlgorithm.Ed25519Sha256);
        Assert.Contains("not an Ed25519 private key", Assert.Throws<DkimKeyException>(() => DkimKeyFile.Load(rsa, DkimSignatureAlgorithm.Ed25519Sha256)).Message, StringComparison.Ordinal);
        Assert.Contains("not an RSA private key", Assert.Throws<DkimKeyException>(() => DkimKeyFile.Load(ed, DkimSignatureAlgorithm.RsaSha256)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_and_garbage_files_are_named()
    {
        var garbage = _keys.Write("garbage.pem", DkimSignatureAlgorithm.RsaSha256, out _);
        File.WriteAllText(garbage, "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n");
        var empty = _keys.Write("empty.pem", DkimSignatureAlgorithm.RsaSha256, out _);
        File.WriteAllText(empty, "hello\n");

        Assert.Contains("/nonexistent/key.pem", Assert.Throws<DkimKeyException>(() => DkimKeyFile.Load("/nonexistent/key.pem", DkimSignatureAlgorithm.RsaSha256)).Message, StringComparison.Ordinal);
        Assert.Contains(garbage, Assert.Throws<DkimKeyException>(() => DkimKeyFile.Load(garbage, DkimSignatureAlgorithm.RsaSha256)).Message, StringComparison.Ordinal);
        Assert.Contains(empty, Assert.Throws<DkimKeyException>(() => DkimKeyFile.Load(empty, DkimSignatureAlgorithm.RsaSha256)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Problems_name_each_bad_key()
    {
        var ed = _keys.Write("ed.pem", DkimSignatureAlgorithm.Ed25519Sha256, out _);
        var options = new DkimOptions
        {
            Domains =
            [
                new DkimDomainOptions { Domain = "ok.test", Selector = "s1", KeyPath = ed, Algorithm = "ed25519-sha256" },
                new DkimDomainOptions { Domain = "bad..test", Selector = "s1", KeyPath = ed, Algorithm = "ED25519-SHA256" },
                new DkimDomainOptions { Domain = "a.test", Selector = "no_underscores", KeyPath = ed, Algorithm = "ed25519-sha256" },
                new DkimDomainOptions { Domain = "a.test", Selector = "s1", KeyPath = ed, Algorithm = "rsa-sha1" },
                new DkimDomainOptions { Domain = "a.test", Selector = "s1", KeyPath = ed, Algorithm = "rsa-sha256" },
                new DkimDomainOptions { Domain = "a.test", Selector = "s1", KeyPath = "" },
            ],
        };

        var problems = DkimHosting.Problems(options).Select(p => p.Key).ToList();

        Assert.Equal(
        [
            "MailCluster:Dkim:Domains:1:Domain", "MailCluster:Dkim:Domains:2:Selector", "MailCluster:Dkim:Domains:3:Algorithm",
            "MailCluster:Dkim:Domains:4:KeyPath", "MailCluster:Dkim:Domains:5:KeyPath",
        ], problems);
    }

    [Theory]
    [InlineData("rsa-sha256", "v=DKIM1; k=rsa; p=MII", "-----BEGIN PRIVATE KEY-----")]
    [InlineData("ed25519-sha256", "v=DKIM1; k=ed25519; p=", "-----BEGIN PRIVATE KEY-----")]
    public void Keygen_prints_the_key_and_a_txt_record_in_255_octet_strings(string algorithm, string recordStart, string pemStart)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = DkimKeygenCommand.Run(["keygen", "--domain", "Example.TEST", "--selector", "mc2026", "--algorithm", algorithm], output, error);

        Assert.Equal(DkimKeygenCommand.Success, code);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(pemStart, lines[0]);
        var txt = lines[^1];
        Assert.StartsWith("mc2026._domainkey.example.test. IN TXT \"" + recordStart, txt, StringComparison.Ordinal);
        var strings = txt[(txt.IndexOf('"', StringComparison.Ordinal) + 1)..^1].Split("\" \"");
        Assert.All(strings, s => Assert.InRange(s.Length, 1, 255));
        Assert.Equal(algorithm == "rsa-sha256" ? 2 : 1, strings.Length);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void Keygen_writes_the_key_file_readable_by_the_owner_only()
    {
        var path = Path.Combine(Path.GetTempPath(), $"mc-dkim-{Guid.NewGuid():N}.pem");
        using var output = new StringWriter();
        try
        {
            Assert.Equal(0, DkimKeygenCommand.Run(["keygen", "--domain", "a.test", "--selector", "s", "--algorithm", "ed25519-sha256", "--out", path], output, TextWriter.Null));

            DkimKeyFile.Load(path, DkimSignatureAlgorithm.Ed25519Sha256);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.DoesNotContain("PRIVATE KEY", output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData]
    [InlineData("keygen")]
    [InlineData("keygen", "--domain", "a.test", "--selector", "s", "--algorithm", "rsa-sha1")]
    [InlineData("keygen", "--domain", "a..test", "--selector", "s")]
    [InlineData("keygen", "--domain", "a.test", "--selector", "bad_selector")]
    [InlineData("keygen", "--domain", "a.test", "--selector", "s", "--bits", "4096")]
    [InlineData("rotate", "--domain", "a.test", "--selector", "s")]
    public void Keygen_refuses_bad_arguments(params string[] args)
    {
        using var error = new StringWriter();

        Assert.Equal(DkimKeygenCommand.UsageError, DkimKeygenCommand.Run(args, TextWriter.Null, error));
        Assert.StartsWith("usage: dkim keygen", error.ToString(), StringComparison.Ordinal);
    }
}
