using System.Text;
using MailCluster.IntegrationTests.Infrastructure;
using MailCluster.Testing;
using Xunit;

namespace MailCluster.IntegrationTests;

/// <summary>
/// T20: a real Postfix (a private instance: own config, queue and data directories under a temp directory, smtpd on
/// 127.0.0.1 and a free port) is the MX of pf.test and stores mail for bob@pf.test in a Maildir. The stored message
/// is byte for byte what the client sent, after the fields Postfix prepends (Return-Path, Delivered-To, its Received)
/// and MailCluster's one Received field; Postfix stores LF line endings, so CRLF is restored before comparing.
/// </summary>
[ParallelScenario]
public class T20_RealPostfixReceives
{
    private static readonly string[] PostfixPrepended = ["Return-Path:", "X-Original-To:", "Delivered-To:"];

    [Fact]
    public async Task Postfix_stores_the_exact_bytes()
    {
        await using var postfix = await PostfixInstance.StartAsync("pf.test", ["bob"]);
        await using var scenario = await Scenario.StartAsync(
            [DnsmasqServer.Mx("pf.test", "mx.pf.test", 10), DnsmasqServer.HostRecord("mx.pf.test", "127.0.0.1")]);
        var env = ScenarioMail.RelayDomains("pf.test");
        env["MailCluster__Outbound__Port"] = postfix.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var config = scenario.NewNodeConfig(env);
        await scenario.StartNodeAsync(config);

        var message = Scenario.NewMessage("bob@pf.test", "T20 through Postfix");
        await Scenario.SendAsync(config.MxPort, message);
        byte[] stored = await postfix.WaitForMessageAsync("bob", TimeSpan.FromSeconds(60));

        byte[] relayed = WithoutPostfixFields(ToCrlf(stored));
        ReceivedHeaderAssert.IsSentBytesWithOneReceivedHeader(Scenario.WireBytes(message), relayed);
        Assert.Contains("status=sent (delivered to maildir)", postfix.Log, StringComparison.Ordinal);
    }

    private static byte[] ToCrlf(byte[] lf) => Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(lf).Replace("\n", "\r\n", StringComparison.Ordinal));

    /// <summary>Drops Postfix's delivery fields and its own Received field (the first one, with its folded lines).</summary>
    private static byte[] WithoutPostfixFields(byte[] message)
    {
        string text = Encoding.UTF8.GetString(message);
        int position = 0;
        bool droppedReceived = false;
        while (true)
        {
            int end = text.IndexOf("\r\n", position, StringComparison.Ordinal);
            while (end >= 0 && end + 2 < text.Length && text[end + 2] is ' ' or '\t')
            {
                end = text.IndexOf("\r\n", end + 2, StringComparison.Ordinal);
            }

            string field = text[position..end];
            if (PostfixPrepended.Any(p => field.StartsWith(p, StringComparison.OrdinalIgnoreCase)))
            {
                position = end + 2;
            }
            else if (!droppedReceived && field.StartsWith("Received:", StringComparison.Ordinal) && field.Contains("(Postfix)", StringComparison.Ordinal))
            {
                droppedReceived = true;
                position = end + 2;
            }
            else
            {
                break;
            }
        }

        Assert.True(droppedReceived, "Postfix's Received field is present");
        return Encoding.UTF8.GetBytes(text[position..]);
    }
}
