using System.Buffers;
using System.Runtime.InteropServices;
using MailCluster.Smtp;
using Xunit;

namespace MailCluster.Edge.Tests;

/// <summary>The pooled message buffer: content survives growth, the trace header lands in front without a copy of the
/// text, and a declared SIZE= only speeds growth in step with the octets that really arrived.</summary>
public class MessageBufferTests
{
    [Fact]
    public void Text_written_in_random_pieces_survives_every_growth()
    {
        var random = new Random(42);
        for (var round = 0; round < 50; round++)
        {
            var expected = new byte[random.Next(0, 300_000)];
            random.NextBytes(expected);
            var buffer = new MessageBuffer(round % 2 == 0 ? null : random.Next(0, 400_000));
            var offset = 0;
            while (offset < expected.Length)
            {
                var piece = Math.Min(random.Next(1, 9000), expected.Length - offset);
                var span = buffer.GetSpan(random.Next(0, piece + 1));
                var n = Math.Min(piece, span.Length);
                expected.AsSpan(offset, n).CopyTo(span);
                buffer.Advance(n);
                offset += n;
            }

            Assert.Equal(expected, buffer.Written.ToArray());
            buffer.Release();
        }
    }

    [Fact]
    public void The_header_goes_into_the_reserved_room_in_front_of_the_text()
    {
        var buffer = Filled("Subject: hi\r\n\r\nbody\r\n"u8);
        var text = buffer.Written;

        var body = buffer.WithPrefix("Received: from x\r\n"u8, "Date: now\r\n"u8);

        Assert.Equal("Received: from x\r\nDate: now\r\nSubject: hi\r\n\r\nbody\r\n"u8.ToArray(), body.ToArray());
        Assert.True(MemoryMarshal.TryGetArray(body, out var bodyArray));
        Assert.True(MemoryMarshal.TryGetArray(text, out var textArray));
        Assert.Same(textArray.Array, bodyArray.Array); // the text was not copied
        Assert.Equal(textArray.Offset, bodyArray.Offset + "Received: from x\r\nDate: now\r\n".Length);
    }

    [Fact]
    public void A_header_longer_than_the_reserved_room_is_copied_with_the_text()
    {
        var buffer = Filled("body\r\n"u8);
        var header = new byte[MessageBuffer.Reserved + 1];
        header.AsSpan().Fill((byte)'h');

        var body = buffer.WithPrefix(header, "x"u8);

        Assert.Equal(header.Length + 1 + 6, body.Length);
        Assert.Equal(header, body[..header.Length].ToArray());
        Assert.Equal("xbody\r\n"u8.ToArray(), body[header.Length..].ToArray());
    }

    [Fact]
    public void After_release_the_buffer_refuses_use_and_a_second_release_is_harmless()
    {
        var buffer = Filled("abc"u8);
        buffer.Release();
        buffer.Release();

        Assert.Throws<ObjectDisposedException>(() => buffer.Written);
        Assert.Throws<ObjectDisposedException>(() => buffer.GetSpan(1));
    }

    [Fact]
    public void A_declared_size_alone_reserves_nothing_and_growth_follows_the_octets_received()
    {
        // A client that declares the maximum (36 MB) and sends 100 KB holds a buffer of the order of 100 KB.
        var buffer = new MessageBuffer(declaredSize: 36L * 1024 * 1024);
        for (var i = 0; i < 100; i++)
        {
            buffer.GetSpan(1000)[..1000].Fill((byte)'a');
            buffer.Advance(1000);
        }

        Assert.True(MemoryMarshal.TryGetArray(buffer.Written, out var segment));
        Assert.InRange(segment.Array!.Length, 100_000 + MessageBuffer.Reserved, 512 * 1024);
        buffer.Release();
    }

    [Fact]
    public void The_data_reader_writes_a_whole_message_through_it()
    {
        var input = "Subject: t\r\n\r\n..dot\r\nline\r\n.\r\n"u8.ToArray();
        var buffer = new MessageBuffer();
        var sequence = new ReadOnlySequence<byte>(input);

        Assert.Equal(DataStatus.Complete, new DataReader(1024).Read(ref sequence, buffer));
        Assert.Equal("Subject: t\r\n\r\n.dot\r\nline\r\n"u8.ToArray(), buffer.Written.ToArray());
    }

    private static MessageBuffer Filled(ReadOnlySpan<byte> text)
    {
        var buffer = new MessageBuffer();
        text.CopyTo(buffer.GetSpan(text.Length));
        buffer.Advance(text.Length);
        return buffer;
    }
}
