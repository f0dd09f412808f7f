using System.Buffers;

namespace MailCluster.Smtp.Tests;

public class DataReaderTests
{
    internal sealed record Outcome(DataStatus Status, string Output, string Rest, long Size, bool TooLarge, bool LongLine, bool Nul, int Received);

    /// <summary>Feeds <paramref name="input"/> in pieces cut at <paramref name="cuts"/>, as a pipe would.</summary>
    internal static Outcome Run(byte[] input, long maxSize = 1 << 20, int maxLine = 1000, params int[] cuts)
    {
        var reader = new DataReader(maxSize, maxLine);
        var output = new ArrayBufferWriter<byte>();
        var bounds = cuts.Where(c => c > 0 && c < input.Length).Distinct().Order().Append(input.Length).ToArray();
        var start = 0;
        var status = DataStatus.NeedMore;
        var rest = "";
        foreach (var end in bounds)
        {
            var buffer = new ReadOnlySequence<byte>(input, start, end - start);
            status = reader.Read(ref buffer, output);
            start = end;
            if (status != DataStatus.NeedMore)
            {
                rest = Bytes.Text([.. buffer.ToArray(), .. input.AsSpan(end)]);
                break;
            }

            Assert.True(buffer.IsEmpty, "NeedMore consumes everything");
        }

        return new(status, Bytes.Text(output.WrittenSpan), rest, reader.Size, reader.IsTooLarge, reader.HasLongLine, reader.HasNul, reader.ReceivedHeaderCount);
    }

    internal static Outcome Run(string input, long maxSize = 1 << 20, int maxLine = 1000) => Run(Bytes.Of(input), maxSize, maxLine);

    /// <summary>Runs every one- and two-cut split and the byte-by-byte feed; all must agree.</summary>
    private static Outcome EverySplit(string text, long maxSize = 1 << 20, int maxLine = 1000)
    {
        var input = Bytes.Of(text);
        var expected = Run(input, maxSize, maxLine);
        for (var a = 0; a <= input.Length; a++)
        {
            for (var b = a; b <= input.Length; b++)
            {
                Assert.Equal(expected, Run(input, maxSize, maxLine, a, b));
            }
        }

        var reader = new DataReader(maxSize, maxLine);
        var output = new ArrayBufferWriter<byte>();
        var bytewise = Bytes.Bytewise(input);
        Assert.Equal(expected.Status, reader.Read(ref bytewise, output));
        Assert.Equal(expected.Output, Bytes.Text(output.WrittenSpan));
        Assert.Equal(expected.Rest, Bytes.Text(bytewise));
        return expected;
    }

    /// <summary>The property test's counterexample: a cut inside the UTF-8 sequence after the terminator. The rest is
    /// the same bytes either way; it must be decoded as one piece, not cut and piece by piece.</summary>
    [Fact]
    public void The_rest_after_the_terminator_is_the_same_text_wherever_the_input_was_cut()
    {
        var input = Bytes.Of("\r\nReceived: x\r\n.\r\n\u00C0\n.\r\n");
        var cut = Array.IndexOf(input, (byte)0xC3) + 1; // between the two bytes of U+00C0
        Assert.Equal(Run(input), Run(input, cuts: [cut]));
        Assert.Equal("\u00C0\n.\r\n", Run(input, cuts: [cut]).Rest);
    }

    [Fact]
    public void Simple_message()
    {
        var o = EverySplit("Subject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n");
        Assert.Equal(DataStatus.Complete, o.Status);
        Assert.Equal("Subject: hi\r\n\r\nbody\r\n", o.Output);
        Assert.Equal("QUIT\r\n", o.Rest);
        Assert.Equal(o.Output.Length, o.Size);
        Assert.False(o.TooLarge || o.LongLine || o.Nul);
    }

    [Fact]
    public void Empty_message() => Assert.Equal(new Outcome(DataStatus.Complete, "", "", 0, false, false, false, 0), Run(".\r\n"));

    [Theory]
    [InlineData("..\r\n.\r\n", ".\r\n")]
    [InlineData("...\r\n.\r\n", "..\r\n")]
    [InlineData(".hidden\r\n.\r\n", "hidden\r\n")]
    [InlineData("a\r\n..\r\nb\r\n.\r\n", "a\r\n.\r\nb\r\n")]
    [InlineData("a.\r\n.b\r\n.\r\n", "a.\r\nb\r\n")]
    [InlineData(". \r\n.\r\n", " \r\n")]
    [InlineData("x\r\n. \r\n.\r\n", "x\r\n \r\n")]
    public void Dot_unstuffing(string input, string output)
    {
        var o = EverySplit(input);
        Assert.Equal(DataStatus.Complete, o.Status);
        Assert.Equal(output, o.Output);
    }

    [Theory]
    [InlineData("a\r\n.\r\n", "a\r\n", "")]
    [InlineData("a\r\n.\r\nb", "a\r\n", "b")]
    [InlineData("a\r\n.\r\n.\r\n", "a\r\n", ".\r\n")]
    public void Terminator_detected_at_every_split_position(string input, string output, string rest)
    {
        var o = EverySplit(input);
        Assert.Equal((DataStatus.Complete, output, rest), (o.Status, o.Output, o.Rest));
    }

    [Theory]
    [InlineData("a\n.\nb\r\n.\r\n")]
    [InlineData("a\n.\r\nb\r\n.\r\n")]
    [InlineData("a\r.\rb\r\n.\r\n")]
    [InlineData("a\r.\nb\r\n.\r\n")]
    [InlineData("a\n.\rb\r\n.\r\n")]
    [InlineData("a\r.\r\nb\r\n.\r\n")]
    [InlineData("a\r\n.\n")]
    [InlineData("a\r\n.\r.\r\n")]
    [InlineData("\n.\r\n")]
    [InlineData("a\r\n.\rx\r\n.\r\n")]
    [InlineData("lone\rcr\r\n.\r\n")]
    [InlineData("lone\nlf\r\n.\r\n")]
    [InlineData("double\r\r\n.\r\n")]
    public void Smuggling_variants_are_bare_line_endings_never_complete(string input)
    {
        var o = EverySplit(input);
        Assert.Equal(DataStatus.BareLineEnding, o.Status);
    }

    [Fact]
    public void Nul_before_the_dot_is_not_a_terminator()
    {
        var o = EverySplit("a\r\n\0.\r\nb\r\n.\r\n");
        Assert.Equal(DataStatus.Complete, o.Status);
        Assert.Equal("a\r\n\0.\r\nb\r\n", o.Output);
        Assert.True(o.Nul);
    }

    [Fact]
    public void Incomplete_data_needs_more()
    {
        Assert.Equal(DataStatus.NeedMore, EverySplit("a\r\n.").Status);
        Assert.Equal(DataStatus.NeedMore, EverySplit("a\r\n.\r").Status);
        Assert.Equal(DataStatus.NeedMore, EverySplit("a\r\nb.\r\n").Status);
    }

    [Fact]
    public void Over_size_stops_writing_but_reads_to_the_terminator()
    {
        var body = string.Concat(Enumerable.Repeat("0123456789\r\n", 100)); // 1200 octets
        var o = EverySplitCoarse(body + ".\r\nQUIT\r\n", maxSize: 500);
        Assert.Equal(DataStatus.Complete, o.Status);
        Assert.True(o.TooLarge);
        Assert.Equal(1200, o.Size);
        Assert.Equal(500, o.Output.Length);
        Assert.Equal("QUIT\r\n", o.Rest);
    }

    [Fact]
    public void Size_exactly_at_the_limit_is_not_too_large()
    {
        var o = Run("12345678\r\n.\r\n", maxSize: 10);
        Assert.False(o.TooLarge);
        Assert.Equal(10, o.Size);
        Assert.True(Run("123456789\r\n.\r\n", maxSize: 10).TooLarge);
    }

    [Fact]
    public void Size_counts_unstuffed_octets() => Assert.Equal(3, Run("..\r\n.\r\n").Size);

    [Fact]
    public void Long_lines_are_flagged_with_the_stuffing_dot_not_counted()
    {
        var exact = new string('x', 998); // 998 + CRLF = 1000: allowed
        Assert.False(Run(exact + "\r\n.\r\n").LongLine);
        Assert.False(Run("." + exact + "\r\n.\r\n").LongLine);
        var o = EverySplitCoarse(exact + "x\r\n.\r\n");
        Assert.True(o.LongLine);
        Assert.Equal(DataStatus.Complete, o.Status);
        Assert.Equal(exact + "x\r\n", o.Output);
        Assert.True(Run("ab\r\n.\r\n", maxLine: 3).LongLine);
    }

    [Fact]
    public void Received_headers_are_counted_in_the_header_section_only()
    {
        var message =
            "Received: from a by b\r\n" +
            "RECEIVED:from c\r\n\tby d\r\n" +
            "received : not a field name match\r\n" +
            "X-Received: no\r\n" +
            "..Received: stuffed dot keeps a dot\r\n" +
            ".Received: stuffed\r\n" +
            "Receive: no\r\n" +
            "\r\n" +
            "Received: in the body\r\n" +
            ".\r\n";
        var o = EverySplitCoarse(message);
        Assert.Equal(3, o.Received);
    }

    [Fact]
    public void Received_after_a_body_only_message_is_not_counted() =>
        Assert.Equal(0, Run("\r\nReceived: x\r\n.\r\n").Received);

    [Fact]
    public void Reset_makes_the_reader_reusable_and_finished_states_stick()
    {
        var reader = new DataReader(100);
        var output = new ArrayBufferWriter<byte>();
        var buffer = Bytes.Seq("a\r\n.\r\nrest");
        Assert.Equal(DataStatus.Complete, reader.Read(ref buffer, output));
        Assert.Equal(DataStatus.Complete, reader.Read(ref buffer, output));
        Assert.Equal("rest", Bytes.Text(buffer));

        reader.Reset();
        Assert.Equal(0, reader.Size);
        buffer = Bytes.Seq("x\n");
        Assert.Equal(DataStatus.BareLineEnding, reader.Read(ref buffer, output));
        buffer = Bytes.Seq(".\r\n");
        Assert.Equal(DataStatus.BareLineEnding, reader.Read(ref buffer, output));

        reader.Reset();
        output.Clear();
        buffer = Bytes.Seq("b\r\n.\r\n");
        Assert.Equal(DataStatus.Complete, reader.Read(ref buffer, output));
        Assert.Equal("b\r\n", Bytes.Text(output.WrittenSpan));
    }

    [Fact]
    public void Binary_and_utf8_octets_pass_through()
    {
        byte[] input = [0xFF, 0x80, 0xC3, 0xA9, 0x7F, 0x0D, 0x0A, 0x2E, 0x0D, 0x0A];
        var o = Run(input);
        Assert.Equal(DataStatus.Complete, o.Status);
        Assert.Equal(7, o.Size);
    }

    private static Outcome EverySplitCoarse(string text, long maxSize = 1 << 20)
    {
        var input = Bytes.Of(text);
        var expected = Run(input, maxSize);
        for (var a = 0; a <= input.Length; a++)
        {
            Assert.Equal(expected, Run(input, maxSize, 1000, a, a + 1, a + 13));
        }

        return expected;
    }
}
