using System.Buffers;

namespace MailCluster.Smtp.Tests;

public class BdatReaderTests
{
    [Fact]
    public void Reads_exactly_the_chunk_and_leaves_the_next_command()
    {
        var reader = new BdatReader(1000);
        var output = new ArrayBufferWriter<byte>();
        reader.BeginChunk(5);
        var buffer = Bytes.Split(Bytes.Of("ab\r\ncBDAT 2 LAST\r\n"), 2);
        Assert.True(reader.Read(ref buffer, output));
        Assert.Equal("ab\r\nc", Bytes.Text(output.WrittenSpan));
        Assert.Equal("BDAT 2 LAST\r\n", Bytes.Text(buffer));
        Assert.Equal(5, reader.Size);
        Assert.False(reader.HasBareLineEnding);
    }

    [Fact]
    public void Chunk_arriving_in_pieces_needs_more()
    {
        var reader = new BdatReader(1000);
        var output = new ArrayBufferWriter<byte>();
        reader.BeginChunk(6);
        var buffer = Bytes.Seq("abc");
        Assert.False(reader.Read(ref buffer, output));
        Assert.True(buffer.IsEmpty);
        Assert.Equal(3, reader.Remaining);
        buffer = Bytes.Seq("defg");
        Assert.True(reader.Read(ref buffer, output));
        Assert.Equal("g", Bytes.Text(buffer));
        Assert.Equal("abcdef", Bytes.Text(output.WrittenSpan));
    }

    [Fact]
    public void Crlf_split_across_chunks_is_not_bare()
    {
        var reader = new BdatReader(1000);
        var output = new ArrayBufferWriter<byte>();
        reader.BeginChunk(2);
        var buffer = Bytes.Seq("a\r");
        reader.Read(ref buffer, output);
        reader.BeginChunk(2, last: true);
        buffer = Bytes.Seq("\nb");
        Assert.True(reader.Read(ref buffer, output));
        Assert.False(reader.HasBareLineEnding);
    }

    [Theory]
    [InlineData("a\nb")]
    [InlineData("a\rb")]
    [InlineData("\n")]
    [InlineData("a\r")]
    public void Bare_line_endings_are_flagged(string chunk)
    {
        var reader = new BdatReader(1000);
        reader.BeginChunk(chunk.Length, last: true);
        var buffer = Bytes.Seq(chunk);
        Assert.True(reader.Read(ref buffer, new ArrayBufferWriter<byte>()));
        Assert.True(reader.HasBareLineEnding);
    }

    [Fact]
    public void Size_limit_spans_chunks_and_nul_is_flagged()
    {
        var reader = new BdatReader(5);
        var output = new ArrayBufferWriter<byte>();
        reader.BeginChunk(4);
        var buffer = Bytes.Seq("abc\0");
        reader.Read(ref buffer, output);
        Assert.True(reader.HasNul);
        reader.BeginChunk(4, last: true);
        buffer = Bytes.Seq("defg");
        Assert.True(reader.Read(ref buffer, output));
        Assert.True(reader.IsTooLarge);
        Assert.Equal(8, reader.Size);
        Assert.Equal(5, output.WrittenCount);

        reader.Reset();
        Assert.False(reader.IsTooLarge || reader.HasNul);
        Assert.Equal(0, reader.Size);
    }
}
