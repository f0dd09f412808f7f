using System.Diagnostics;
using System.Text;
using MailCluster.Edge.Dkim;
using MimeKit.Cryptography;
using Xunit;

namespace MailCluster.Edge.Tests.Dkim;

/// <summary>
/// <see cref="DkimSigning"/>: the signature fields it returns, put in front of the fields the edge adds and the text
/// as received, verify with MimeKit's verifier (T75-T77 verify with dkimpy); the text itself is never changed.
/// </summary>
public sealed class DkimSigningTests(ITestOutputHelper output) : IDisposable
{
    private const string Text =
        "From: Ann <ann@Signed.Test>\r\nTo: bob@example.net\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n" +
        "Content-Type: text/plain; charset=utf-8\r\nX-Long: folded\r\n\tcontinued   with  spaces\r\n\r\n" +
        "Hello,   world \r\n..dots and Grüße\r\n\r\n\r\n";

    private static readonly byte[] Added = "Message-ID: <q1@mc.test>\r\nDate: Sun, 06 Dec 2026 02:00:00 +0000\r\n"u8.ToArray();

    private static readonly Func<string, bool> Anyone = _ => true;

    private readonly DkimTestKeys _keys = new();

    public void Dispose() => _keys.Dispose();

    private static byte[] Signed(byte[] signatures, string text) => [.. signatures, .. Added, .. Encoding.UTF8.GetBytes(text)];

    [Theory]
    [InlineData(DkimSignatureAlgorithm.RsaSha256, "a=rsa-sha256")]
    [InlineData(DkimSignatureAlgorithm.Ed25519Sha256, "a=ed25519-sha256")]
    public void Signature_verifies_and_the_text_is_unchanged(DkimSignatureAlgorithm algorithm, string tag)
    {
        var signing = new DkimSigning([_keys.Add("signed.test", "s1", algorithm)]);

        var signatures = signing.Sign(Added, Encoding.UTF8.GetBytes(Text), Anyone);

        var field = Encoding.ASCII.GetString(signatures);
        Assert.StartsWith("DKIM-Signature: v=1; " + tag + "; d=signed.test; s=s1; c=relaxed/relaxed;", field, StringComparison.Ordinal);
        Assert.EndsWith("\r\n", field, StringComparison.Ordinal);
        Assert.DoesNotMatch("[^\r]\n", field);
        Assert.True(_keys.Verify(Signed(signatures, Text)));
    }

    [Fact]
    public void From_to_and_subject_are_oversigned_and_present_fields_signed()
    {
        var signing = new DkimSigning([_keys.Add("signed.test", "s1", DkimSignatureAlgorithm.RsaSha256)]);

        var field = Encoding.ASCII.GetString(signing.Sign(Added, Encoding.UTF8.GetBytes(Text), Anyone));

        var h = string.Concat(field.Split("h=")[1].TakeWhile(c => c != ';')).Replace("\r\n\t", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal);
        Assert.Equal("from:from:subject:subject:date:to:to:message-id:content-type", h);
    }

    [Fact]
    public void A_field_added_after_signing_breaks_the_signature()
    {
        var signing = new DkimSigning([_keys.Add("signed.test", "s1", DkimSignatureAlgorithm.RsaSha256)]);
        var signatures = signing.Sign(Added, Encoding.UTF8.GetBytes(Text), Anyone);

        Assert.False(_keys.Verify(Signed(signatures, "Subject: injected\r\n" + Text)));
        Assert.False(_keys.Verify(Signed(signatures, Text + "appended\r\n")));
        Assert.True(_keys.Verify(Signed(signatures, Text + "\r\n")), "relaxed body: trailing empty lines do not count");
    }

    [Fact]
    public void Dual_signing_gives_two_fields_that_both_verify()
    {
        var signing = new DkimSigning(
        [
            _keys.Add("signed.test", "rsa", DkimSignatureAlgorithm.RsaSha256),
            _keys.Add("SIGNED.test", "ed", DkimSignatureAlgorithm.Ed25519Sha256),
        ]);

        var message = Signed(signing.Sign(Added, Encoding.UTF8.GetBytes(Text), Anyone), Text);

        Assert.True(_keys.Verify(message, 0));
        Assert.True(_keys.Verify(message, 1));
        var text = Encoding.ASCII.GetString(message);
        Assert.True(text.IndexOf("a=rsa-sha256", StringComparison.Ordinal) < text.IndexOf("a=ed25519-sha256", StringComparison.Ordinal), "configuration order");
    }

    [Theory]
    [InlineData("From: ann@other.test\r\nSubject: x\r\n\r\nbody\r\n")]
    [InlineData("Subject: no author\r\n\r\nbody\r\n")]
    [InlineData("From: ann@signed.test\r\nFrom: eve@signed.test\r\n\r\nbody\r\n")]
    [InlineData("From: ann@signed.test, eve@other.test\r\n\r\nbody\r\n")]
    [InlineData("From: not an address at all\r\n\r\nbody\r\n")]
    public void Messages_without_one_from_domain_with_a_key_are_not_signed(string text)
    {
        var signing = new DkimSigning([_keys.Add("signed.test", "s1", DkimSignatureAlgorithm.RsaSha256)]);

        Assert.Empty(signing.Sign(Added, Encoding.UTF8.GetBytes(text), Anyone));
    }

    [Fact]
    public void A_from_address_the_user_may_not_send_as_is_not_signed()
    {
        var signing = new DkimSigning([_keys.Add("signed.test", "s1", DkimSignatureAlgorithm.RsaSha256)]);
        var asked = new List<string>();

        Assert.Empty(signing.Sign(Added, Encoding.UTF8.GetBytes(Text), from => { asked.Add(from); return false; }));
        Assert.Equal(["ann@Signed.Test"], asked);
    }

    [Theory]
    [InlineData("From: ann@signed.test\r\n\r\n")]
    [InlineData("From: ann@signed.test\r\n")]
    public void Messages_with_an_empty_body_are_signed(string text)
    {
        var signing = new DkimSigning([_keys.Add("signed.test", "s1", DkimSignatureAlgorithm.Ed25519Sha256)]);

        var signatures = signing.Sign([], Encoding.UTF8.GetBytes(text), Anyone);

        Assert.True(_keys.Verify([.. signatures, .. Encoding.UTF8.GetBytes(text)]));
    }

    /// <summary>A rough figure, printed, for the report and the benchmark idea; the assertion is only a sanity bound.</summary>
    [Fact]
    public void Cost_per_message_is_measured()
    {
        var body = string.Concat(Enumerable.Repeat("A line of about seventy characters of body text, repeated for size.\r\n", 150));
        var text = Encoding.UTF8.GetBytes(Text + body);
        foreach (var algorithm in new[] { DkimSignatureAlgorithm.RsaSha256, DkimSignatureAlgorithm.Ed25519Sha256 })
        {
            var signing = new DkimSigning([_keys.Add("signed.test", algorithm.ToString(), algorithm)]);
            signing.Sign(Added, text, Anyone);
            const int Count = 200;
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < Count; i++)
            {
                Assert.NotEmpty(signing.Sign(Added, text, Anyone));
            }

            var perMessage = clock.Elapsed.TotalMilliseconds / Count;
            output.WriteLine($"{algorithm}: {perMessage:F3} ms per {text.Length}-byte message");
            Assert.True(perMessage < 100, $"{algorithm}: {perMessage} ms per message");
        }
    }
}
