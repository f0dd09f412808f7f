using System.Buffers;

namespace MailCluster.Smtp.Tests;

public class SmtpLineReaderTests
{
    /// <summary>Feeds <paramref name="input"/> the way a PipeReader loop would, in pieces cut at <paramref name="cuts"/>,
    /// keeping unconsumed bytes between reads. Returns every non-NeedMore status, with the line text for Line.</summary>
    private static List<string> Drive(SmtpLineReader reader, byte[] input, params int[] cuts)
    {
        var results = new List<string>();
        var pending = Array.Empty<byte>();
        var bounds = cuts.Where(c => c > 0 && c < input.Length).Order().Append(input.Length).ToArray();
        var start = 0;
        foreach (var end in bounds)
        {
            byte[] data = [.. pending, .. input.AsSpan(start, end - start)];
            start = end;
            var buffer = new ReadOnlySequence<byte>(data);
            LineStatus status;
            while ((status = reader.TryRead(ref buffer, out var line)) != LineStatus.NeedMore)
            {
                results.Add(status == LineStatus.Line ? "Line:" + Bytes.Text(line) : status.ToString());
                if (status == LineStatus.BareLineEnding)
                {
                    return results;
                }
            }

            pending = buffer.ToArray(); // AdvanceTo(buffer.Start, buffer.End)
            Assert.True(pending.Length <= reader.MaxLength + 1, "never holds more than one line");
        }

        return results;
    }

    [Fact]
    public void Reads_crlf_lines_and_leaves_the_rest()
    {
        var reader = new SmtpLineReader(512);
        var buffer = Bytes.Seq("EHLO a\r\nMAIL FROM:<>\r\nRCPT");
        Assert.Equal(LineStatus.Line, reader.TryRead(ref buffer, out var line));
        Assert.Equal("EHLO a", Bytes.Text(line));
        Assert.Equal(LineStatus.Line, reader.TryRead(ref buffer, out line));
        Assert.Equal("MAIL FROM:<>", Bytes.Text(line));
        Assert.Equal(LineStatus.NeedMore, reader.TryRead(ref buffer, out _));
        Assert.Equal("RCPT", Bytes.Text(buffer));
    }

    [Fact]
    public void Empty_line_is_a_line()
    {
        var buffer = Bytes.Seq("\r\n");
        Assert.Equal(LineStatus.Line, new SmtpLineReader(10).TryRead(ref buffer, out var line));
        Assert.True(line.IsEmpty);
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void Cr_at_end_of_buffer_waits_for_the_next_byte()
    {
        var reader = new SmtpLineReader(512);
        var buffer = Bytes.Seq("QUIT\r");
        Assert.Equal(LineStatus.NeedMore, reader.TryRead(ref buffer, out _));
        Assert.Equal("QUIT\r", Bytes.Text(buffer));
    }

    [Theory]
    [InlineData("QUIT\n")]
    [InlineData("QUIT\rX\r\n")]
    [InlineData("QUIT\r\r\n")]
    [InlineData("\nQUIT\r\n")]
    [InlineData("NOOP\r\nQUIT\n")]
    [InlineData("NO\rOP\r\n")]
    public void Bare_line_endings(string input)
    {
        var text = Bytes.Of(input);
        for (var cut = 0; cut <= text.Length; cut++)
        {
            Assert.Equal("BareLineEnding", Drive(new SmtpLineReader(512), text, cut)[^1]);
        }
    }

    [Fact]
    public void Line_of_exactly_max_length_is_accepted_one_more_is_too_long()
    {
        Assert.Equal(["Line:" + new string('a', 10)], Drive(new SmtpLineReader(10), Bytes.Of(new string('a', 10) + "\r\n")));
        Assert.Equal(["TooLong"], Drive(new SmtpLineReader(10), Bytes.Of(new string('a', 11) + "\r\n")));
    }

    [Fact]
    public void Overlong_line_is_discarded_across_calls_then_reading_resumes()
    {
        var input = Bytes.Of(new string('x', 5000) + "\r\nQUIT\r\n");
        var expected = new List<string> { "TooLong", "Line:QUIT" };
        for (var cut = 0; cut <= input.Length; cut += 97)
        {
            Assert.Equal(expected, Drive(new SmtpLineReader(100), input, cut, cut + 1, cut + 2, 4999, 5000, 5001));
        }

        // One byte at a time: memory stays bounded (checked inside Drive) and the CR/LF split is handled.
        Assert.Equal(expected, Drive(new SmtpLineReader(100), input, [.. Enumerable.Range(1, input.Length)]));
    }

    [Fact]
    public void Discard_mode_consumes_the_buffer()
    {
        var reader = new SmtpLineReader(4);
        var buffer = Bytes.Seq("abcdefgh");
        Assert.Equal(LineStatus.NeedMore, reader.TryRead(ref buffer, out _));
        Assert.True(buffer.IsEmpty);
        Assert.True(reader.IsDiscarding);
        buffer = Bytes.Seq("ijk\r");
        Assert.Equal(LineStatus.NeedMore, reader.TryRead(ref buffer, out _));
        Assert.Equal("\r", Bytes.Text(buffer)); // the CR is kept to be paired with its LF
        buffer = Bytes.Seq("\r\nNOOP\r\n");
        Assert.Equal(LineStatus.TooLong, reader.TryRead(ref buffer, out _));
        Assert.False(reader.IsDiscarding);
        Assert.Equal(LineStatus.Line, reader.TryRead(ref buffer, out var line));
        Assert.Equal("NOOP", Bytes.Text(line));
    }

    [Theory]
    [InlineData("xxxxxxxxxx\n")]
    [InlineData("xxxxxxxxxx\rx")]
    public void Bare_line_ending_inside_a_discarded_line_is_still_reported(string input) =>
        Assert.Equal(["BareLineEnding"], Drive(new SmtpLineReader(3), Bytes.Of(input), 5));

    [Fact]
    public void Lines_split_at_every_position_read_the_same()
    {
        var input = Bytes.Of("EHLO client.example\r\nMAIL FROM:<a@b.c>\r\n\r\nRCPT TO:<d@e.f>\r\n");
        var expected = Drive(new SmtpLineReader(512), input);
        Assert.Equal(["Line:EHLO client.example", "Line:MAIL FROM:<a@b.c>", "Line:", "Line:RCPT TO:<d@e.f>"], expected);
        for (var a = 0; a <= input.Length; a++)
        {
            for (var b = a; b <= input.Length; b += 7)
            {
                Assert.Equal(expected, Drive(new SmtpLineReader(512), input, a, b));
            }
        }
    }

    [Fact]
    public void Multi_segment_buffer_is_read_in_place()
    {
        var input = Bytes.Of("MAIL FROM:<a@b.c>\r\nQUIT\r\n");
        var buffer = Bytes.Bytewise(input);
        var reader = new SmtpLineReader(512);
        Assert.Equal(LineStatus.Line, reader.TryRead(ref buffer, out var line));
        Assert.Equal("MAIL FROM:<a@b.c>", Bytes.Text(line));
        Assert.Equal(LineStatus.Line, reader.TryRead(ref buffer, out line));
        Assert.Equal("QUIT", Bytes.Text(line));
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void Max_length_must_be_positive() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new SmtpLineReader(0));
}
