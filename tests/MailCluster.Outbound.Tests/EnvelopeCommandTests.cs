using MailCluster.Queue.Protocol;

namespace MailCluster.Outbound.Tests;

/// <summary>The MAIL and RCPT lines of the outbound client (<see cref="SmtpEnvelopeCommands"/>), byte for byte.</summary>
public sealed class EnvelopeCommandTests
{
    [Fact]
    public void Mail_carries_every_parameter_in_a_fixed_order()
    {
        var dsn = new DsnEnvelope("HDRS", "QQ+id", []);

        string line = SmtpEnvelopeCommands.MailFrom("s@client.test", new MailParameters(SmtpUtf8: true, Size: 1234, EightBitMime: true, Dsn: dsn, DsnOffered: true));

        Assert.Equal("MAIL FROM:<s@client.test> SMTPUTF8 SIZE=1234 BODY=8BITMIME ENVID=QQ+2Bid RET=HDRS", line);
    }

    [Fact]
    public void Mail_relays_the_envid_as_received_and_re_encodes_one_persisted_without_the_wire_form()
    {
        // "+41" is an optional escape of "A": decoding and re-encoding would give "QAQ".
        var received = new DsnEnvelope(null, "QAQ", []) { EnvIdXtext = "Q+41Q" };

        Assert.Equal("MAIL FROM:<s@client.test> ENVID=Q+41Q", SmtpEnvelopeCommands.MailFrom("s@client.test", new MailParameters(Dsn: received, DsnOffered: true)));
        Assert.Equal("MAIL FROM:<s@client.test> ENVID=QAQ", SmtpEnvelopeCommands.MailFrom("s@client.test", new MailParameters(Dsn: received with { EnvIdXtext = null }, DsnOffered: true)));
    }

    [Fact]
    public void Mail_leaves_out_dsn_parameters_for_a_peer_without_dsn_and_writes_the_null_reverse_path()
    {
        var dsn = new DsnEnvelope("FULL", "env", []);

        Assert.Equal("MAIL FROM:<>", SmtpEnvelopeCommands.MailFrom("", new MailParameters(Dsn: dsn, DsnOffered: false)));
        Assert.Equal("MAIL FROM:<> RET=FULL", SmtpEnvelopeCommands.MailFrom("", new MailParameters(Dsn: dsn with { EnvId = null }, DsnOffered: true)));
    }

    [Fact]
    public void Rcpt_relays_the_orcpt_as_received_even_where_a_re_encoding_would_differ()
    {
        // "+41" is an optional escape of "A": decoding and re-encoding would give "rfc822;AAB@example.com".
        var dsn = new DsnRecipient("a@relay.test", "FAILURE,DELAY", "rfc822;AAB@example.com", "rfc822;A+41B@example.com");

        Assert.Equal("RCPT TO:<a@relay.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;A+41B@example.com", SmtpEnvelopeCommands.RcptTo("a@relay.test", dsn, dsnOffered: true, smtpUtf8: false));
    }

    [Fact]
    public void Rcpt_re_encodes_the_decoded_orcpt_of_an_envelope_persisted_without_the_wire_form()
    {
        var old = new DsnRecipient("a@relay.test", null, "rfc822;Original+xtext=x y@example.com");

        Assert.Equal("RCPT TO:<a@relay.test> ORCPT=rfc822;Original+2Bxtext+3Dx+20y@example.com", SmtpEnvelopeCommands.RcptTo("a@relay.test", old, dsnOffered: true, smtpUtf8: false));
    }

    [Fact]
    public void Notify_and_orcpt_are_independent_and_only_for_a_peer_that_offers_dsn()
    {
        var notifyOnly = new DsnRecipient("a@relay.test", "NEVER", null);
        var both = new DsnRecipient("a@relay.test", "SUCCESS", "rfc822;a@relay.test", "rfc822;a@relay.test");

        Assert.Equal("RCPT TO:<a@relay.test> NOTIFY=NEVER", SmtpEnvelopeCommands.RcptTo("a@relay.test", notifyOnly, dsnOffered: true, smtpUtf8: false));
        Assert.Equal("RCPT TO:<a@relay.test>", SmtpEnvelopeCommands.RcptTo("a@relay.test", both, dsnOffered: false, smtpUtf8: false));
        Assert.Equal("RCPT TO:<a@relay.test>", SmtpEnvelopeCommands.RcptTo("a@relay.test", null, dsnOffered: true, smtpUtf8: false));
    }

    [Fact]
    public void A_utf8_orcpt_goes_only_in_an_smtputf8_transaction()
    {
        var dsn = new DsnRecipient("jörg@relay.test", null, "utf-8;jörg@example.com", "utf-8;jörg@example.com");

        Assert.Equal("RCPT TO:<jörg@relay.test> ORCPT=utf-8;jörg@example.com", SmtpEnvelopeCommands.RcptTo("jörg@relay.test", dsn, dsnOffered: true, smtpUtf8: true));
        Assert.Equal("RCPT TO:<j@relay.test>", SmtpEnvelopeCommands.RcptTo("j@relay.test", dsn, dsnOffered: true, smtpUtf8: false));
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a+b=c", "a+2Bb+3Dc")]
    [InlineData("sp ace\t", "sp+20ace+09")]
    [InlineData("ü", "+C3+BC")]
    [InlineData("", "")]
    public void Xtext_escapes_plus_equals_and_everything_outside_printable_ascii(string value, string xtext) =>
        Assert.Equal(xtext, SmtpEnvelopeCommands.EncodeXtext(value));
}
