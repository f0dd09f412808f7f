using FsCheck;
using FsCheck.Fluent;
using static MailCluster.Smtp.Tests.DataReaderTests;
using Outcome = MailCluster.Smtp.Tests.DataReaderTests.Outcome;

namespace MailCluster.Smtp.Tests;

/// <summary>
/// The reader (state machine plus its run-of-whole-lines fast path) against <see cref="Reference"/>, a line-at-a-time
/// reading of RFC 5321 §4.1.1.4/§4.5.2 with no fast path and no state across calls, on random inputs cut at random
/// octet boundaries. The inputs are large enough to hold many whole lines per piece, so the fast path runs, stops at
/// leading dots, bare CR/LF, NULs and long lines, and hands over to the state machine mid-piece.
/// </summary>
public class DataReaderReferenceTests
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(1500);

    /// <summary>What <see cref="DataReader"/> must produce for the whole input: lines are read one by one; a leading dot
    /// is dropped, or ends the data when only CRLF follows it; text goes out octet by octet up to maxSize.</summary>
    internal static Outcome Reference(byte[] input, long maxSize, int maxLine)
    {
        var output = new List<byte>();
        long size = 0;
        bool tooLarge = false, longLine = false, nul = false, inHeaders = true;
        var received = 0;

        void Emit(ReadOnlySpan<byte> octets)
        {
            foreach (var b in octets)
            {
                if (++size <= maxSize)
                {
                    output.Add(b);
                }
                else
                {
                    tooLarge = true;
                }
            }
        }

        void Text(ReadOnlySpan<byte> text)
        {
            nul |= text.Contains((byte)0);
            longLine |= text.Length + 2 > maxLine;
            if (inHeaders && text.Length >= 9 && System.Text.Ascii.EqualsIgnoreCase(text[..9], "received:"u8))
            {
                received++;
            }

            Emit(text);
        }

        Outcome End(DataStatus status, int restFrom) =>
            new(status, Bytes.Text([.. output]), Bytes.Text(input.AsSpan(Math.Min(restFrom, input.Length))), size, tooLarge, longLine, nul, received);

        var start = 0;
        while (true)
        {
            var dot = start < input.Length && input[start] == '.';
            var from = dot ? start + 1 : start;
            var end = from;
            while (end < input.Length && input[end] is not (byte)'\r' and not (byte)'\n')
            {
                end++;
            }

            var text = input.AsSpan(from, end - from);
            if (end == input.Length || (input[end] == '\r' && end + 1 == input.Length))
            {
                Text(text);
                return End(DataStatus.NeedMore, input.Length);
            }

            if (input[end] == '\n' || input[end + 1] != '\n')
            {
                Text(text);
                return End(DataStatus.BareLineEnding, input[end] == '\n' ? end + 1 : end + 2);
            }

            if (dot && text.IsEmpty)
            {
                return End(DataStatus.Complete, end + 2);
            }

            Text(text);
            Emit("\r\n"u8);
            inHeaders &= !text.IsEmpty;
            start = end + 2;
        }
    }

    /// <summary>Message-like input: a header section, then body lines of every length around the line limit, with
    /// stuffed dots, NULs, bare CR/LF and the terminator sprinkled in at a low rate.</summary>
    private static readonly Gen<byte[]> Messages =
        Gen.Frequency(
                (30, Gen.Choose(0, 90).Select(n => Bytes.Of(new string('x', n) + "\r\n"))),
                (4, Gen.Choose(95, 110).Select(n => Bytes.Of(new string('y', n) + "\r\n"))),
                (2, Gen.Elements("..dots\r\n", ".\r\n", "..\r\n", ".x\r\n", "\r\n", "Received: r\r\n", "a\0b\r\n", "\0\r\n")
                    .Select(Bytes.Of)),
                (1, Gen.Elements("\n", "\r", "\r\r\n", "x\ny\r\n", "\n.\n", ".").Select(Bytes.Of)))
            .ListOf()
            .Select(lines => lines.SelectMany(l => l).ToArray());

    private static readonly Gen<(byte[] Input, long MaxSize, int MaxLine, int[] Cuts)> Cases =
        from header in Gen.Elements("", "Received: a\r\n", "Subject: s\r\nreceived:b\r\n\r\n", "\r\n", "X: y\r\n\r\n")
        from body in Messages
        from maxSize in Gen.Frequency((3, Gen.Constant(1L << 20)), (1, Gen.Choose(0, 600).Select(n => (long)n)))
        from maxLine in Gen.Elements(100, 1000, 3)
        from cuts in Gen.Choose(0, 10_000).ArrayOf()
        let input = (byte[])[.. Bytes.Of(header), .. body]
        select (input, maxSize, maxLine, cuts.Select(c => (int)((long)c * input.Length / 10_000)).ToArray());

    [Fact]
    public void Reader_matches_the_reference_for_any_input_and_any_split() =>
        Check.One(Runs, Prop.ForAll(Cases.ToArbitrary(), c =>
        {
            var expected = Reference(c.Input, c.MaxSize, c.MaxLine);
            Assert.Equal(expected, Run(c.Input, c.MaxSize, c.MaxLine));
            Assert.Equal(expected, Run(c.Input, c.MaxSize, c.MaxLine, c.Cuts));
        }));

    [Fact]
    public void Reader_matches_the_reference_when_cut_at_every_octet_of_a_message_with_every_edge()
    {
        var input = Bytes.Of(
            "Received: a\r\nSubject: s\r\n\r\n" + "body one\r\nbody two\r\n" + "..stuffed\r\nafter\r\n" + "nul\0here\r\n" +
            new string('L', 120) + "\r\n" + "short\r\n\r\nReceived: in the body\r\n" + "last\r\n.\r\nQUIT\r\n");
        var expected = Reference(input, 1 << 20, 100);
        Assert.Equal((DataStatus.Complete, true, true, 1, "QUIT\r\n"), (expected.Status, expected.LongLine, expected.Nul, expected.Received, expected.Rest));
        for (var a = 0; a <= input.Length; a++)
        {
            Assert.Equal(expected, Run(input, 1 << 20, 100, a));
            Assert.Equal(expected, Run(input, 1 << 20, 100, a, a + 1, a + 37));
        }

        Assert.Equal(expected, Run(input, 1 << 20, 100, [.. Enumerable.Range(1, input.Length)]));
    }

    [Theory]
    [InlineData("\r\nline\r\nbare\nrest\r\n.\r\n")]
    [InlineData("\r\nline\r\nbare\rrest\r\n.\r\n")]
    [InlineData("\r\nline\r\nend\r\n.\n")]
    [InlineData("\r\nline\r\n\n.\r\n")]
    public void Bare_line_endings_after_plain_lines_stop_the_reader_at_the_same_octet(string text)
    {
        var input = Bytes.Of(text);
        var expected = Reference(input, 1 << 20, 1000);
        Assert.Equal(DataStatus.BareLineEnding, expected.Status);
        for (var a = 0; a <= input.Length; a++)
        {
            Assert.Equal(expected, Run(input, 1 << 20, 1000, a));
        }
    }

    [Fact]
    public void A_megabyte_body_in_pipe_sized_pieces_matches_the_reference()
    {
        var random = new Random(18);
        var body = new System.Text.StringBuilder("From: a\r\nSubject: big\r\n\r\n");
        while (body.Length < 1 << 20)
        {
            var n = random.Next(0, 78);
            body.Append(random.Next(40) == 0 ? "." : "").Append('z', n).Append(random.Next(5000) == 0 ? "\0" : "").Append("\r\n");
        }

        var input = Bytes.Of(body + ".\r\n");
        var expected = Reference(input, 1 << 30, 1000);
        Assert.Equal(DataStatus.Complete, expected.Status);
        Assert.Equal(expected, Run(input, 1 << 30, 1000, [.. Enumerable.Range(1, input.Length / 4096).Select(i => (i * 4096) + random.Next(-50, 50))]));
        Assert.Equal(expected, Run(input, 1 << 30, 1000));
    }
}
