using System.Buffers;
using System.IO.Pipelines;
using System.Text;

namespace MailCluster.Edge.WarmUp;

/// <summary>The client side of a warm-up session (<see cref="SmtpWarmUp"/>): writes a command, reads the reply's lines up
/// to the last one (RFC 5321 §4.2.1: "NNN " ends a reply, "NNN-" continues it) and returns its code, or 0 when the
/// server closed the pipe first.</summary>
internal sealed class WarmUpClient(PipeWriter toServer, PipeReader fromServer, CancellationToken ct)
{
    public async Task<int> CommandAsync(string line) => await SendAsync(Encoding.ASCII.GetBytes(line + "\r\n")).ConfigureAwait(false);

    public async Task<int> SendAsync(byte[] text)
    {
        await toServer.WriteAsync(text, ct).ConfigureAwait(false);
        return await ReplyAsync().ConfigureAwait(false);
    }

    public async Task<int> ReplyAsync()
    {
        while (true)
        {
            var read = await fromServer.ReadAsync(ct).ConfigureAwait(false);
            var buffer = read.Buffer;
            var code = LastLine(ref buffer);
            fromServer.AdvanceTo(buffer.Start, read.Buffer.End);
            if (code > 0)
            {
                return code;
            }

            if (read.IsCompleted)
            {
                return 0;
            }
        }
    }

    /// <summary>Consumes complete reply lines; the code of the last line of the reply once it has been read, else 0.</summary>
    private static int LastLine(ref ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        Span<byte> head = stackalloc byte[4];
        while (reader.TryReadTo(out ReadOnlySequence<byte> line, "\r\n"u8))
        {
            buffer = buffer.Slice(reader.Position);
            if (line.Length < 4)
            {
                continue;
            }

            line.Slice(0, 4).CopyTo(head);
            if (head[3] == (byte)' ')
            {
                return ((head[0] - '0') * 100) + ((head[1] - '0') * 10) + (head[2] - '0');
            }
        }

        return 0;
    }
}
