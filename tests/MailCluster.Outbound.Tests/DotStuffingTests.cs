using System.Text;

namespace MailCluster.Outbound.Tests;

/// <summary>The relay's DATA transparency and its bare-line-break check against octet-at-a-time references, on random
/// bodies rich in dots, CR and LF, of every length around the vector width.</summary>
public sealed class DotStuffingTests
{
    /// <summary>RFC 5321 §4.5.2 read literally: a dot after a line start (the body's start or any LF) is doubled.</summary>
    private static byte[] ReferenceStuff(byte[] body)
    {
        var output = new List<byte>();
        var lineStart = true;
        foreach (var b in body)
        {
            if (lineStart && b == '.')
            {
                output.Add((byte)'.');
            }

            output.Add(b);
            lineStart = b == '\n';
        }

        output.AddRange(body.Length == 0 || body[^1] == '\n' ? ".\r\n"u8.ToArray() : "\r\n.\r\n"u8.ToArray());
        return [.. output];
    }

    private static bool ReferenceBare(byte[] s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if ((s[i] == '\r' && (i + 1 >= s.Length || s[i + 1] != '\n')) || (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')))
            {
                return true;
            }
        }

        return false;
    }

    private static IEnumerable<byte[]> RandomBodies()
    {
        var random = new Random(5321);
        byte[] alphabet = ".\r\n.x\r\nab\0"u8.ToArray();
        for (var n = 0; n < 3000; n++)
        {
            var body = new byte[random.Next(0, 200)];
            for (var i = 0; i < body.Length; i++)
            {
                body[i] = alphabet[random.Next(alphabet.Length)];
            }

            yield return body;
            // The same body with every CR and LF made a CRLF: the clean case, bare only where the edit left one.
            yield return Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(body).Replace("\r", "").Replace("\n", "\r\n"));
        }
    }

    [Fact]
    public void Stuffing_matches_the_reference_and_is_skipped_only_when_nothing_changes()
    {
        foreach (var body in RandomBodies())
        {
            var expected = ReferenceStuff(body);
            Assert.Equal(expected, DotStuffing.Stuff(body));
            Assert.Equal(expected.Length != body.Length + DotStuffing.Terminator(body).Length, DotStuffing.IsNeeded(body));
            if (!DotStuffing.IsNeeded(body))
            {
                Assert.Equal(expected, (byte[])[.. body, .. DotStuffing.Terminator(body)]);
            }
        }
    }

    [Fact]
    public void Bare_line_break_check_matches_the_reference()
    {
        var bare = 0;
        foreach (var body in RandomBodies())
        {
            Assert.Equal(ReferenceBare(body), OutboundContent.HasBareLineBreak(body));
            bare += ReferenceBare(body) ? 1 : 0;
        }

        Assert.InRange(bare, 1000, 5000); // both answers are exercised
    }

    [Theory]
    [InlineData(".", "..\r\n.\r\n")]
    [InlineData("a\r\n.b\r\n", "a\r\n..b\r\n.\r\n")]
    [InlineData("a\r\n..\r\n", "a\r\n...\r\n.\r\n")]
    [InlineData("no dot\r\n", "no dot\r\n.\r\n")]
    [InlineData("", ".\r\n")]
    public void Examples(string body, string wire) =>
        Assert.Equal(wire, Encoding.ASCII.GetString(DotStuffing.Stuff(Encoding.ASCII.GetBytes(body))));

    [Fact]
    public void A_bare_line_break_at_every_offset_of_a_long_clean_text_is_found()
    {
        var clean = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("0123456789abcdef\r\n", 20)));
        Assert.False(OutboundContent.HasBareLineBreak(clean));
        for (var i = 0; i < clean.Length; i++)
        {
            if (clean[i] is (byte)'\r' or (byte)'\n')
            {
                continue;
            }

            foreach (var end in "\r\n"u8.ToArray())
            {
                var body = (byte[])clean.Clone();
                body[i] = end;
                Assert.True(OutboundContent.HasBareLineBreak(body), $"{(char)end} at {i}");
            }
        }
    }
}
