using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;

// A minimal SMTP responder on Kestrel for bench/floor.sh: greets, answers 250 to every command, 354 to DATA, 250 after
// the terminating dot and 221 to QUIT. No parsing, no queue: what is left is Kestrel's cost per connection and per read.
// With --sockets the same answers come from a plain Socket accept loop (no Kestrel): .NET's own sockets floor.
if (args.Contains("--sockets"))
{
    await SocketFloor.RunAsync(2525);
    return;
}

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
// Experiments: FLOOR_IOQUEUES=N (Kestrel's IOQueueCount; 0 = straight to the thread pool), FLOOR_INLINE=1 (UnsafePreferInlineScheduling).
builder.WebHost.UseSockets(o =>
{
    if (int.TryParse(Environment.GetEnvironmentVariable("FLOOR_IOQUEUES"), out var queues)) o.IOQueueCount = queues;
    if (Environment.GetEnvironmentVariable("FLOOR_INLINE") == "1") o.UnsafePreferInlineScheduling = true;
});
builder.WebHost.ConfigureKestrel(k => k.ListenLocalhost(2525, l => l.UseConnectionHandler<Smtp>()));
builder.Build().Run();

sealed class Smtp : ConnectionHandler
{
    static readonly byte[] Greet = "220 x ESMTP\r\n"u8.ToArray(), Ok = "250 ok\r\n"u8.ToArray(), Go = "354 go\r\n"u8.ToArray(), Bye = "221 bye\r\n"u8.ToArray();
    public override async Task OnConnectedAsync(ConnectionContext c)
    {
        var input = c.Transport.Input; var output = c.Transport.Output;
        await output.WriteAsync(Greet);
        bool data = false;
        while (true)
        {
            var r = await input.ReadAsync();
            var buf = r.Buffer;
            bool quit = false;
            while (true)
            {
                var pos = buf.PositionOf((byte)'\n');
                if (pos is null) break;
                var line = buf.Slice(0, pos.Value);
                var text = Encoding.ASCII.GetString(line);
                buf = buf.Slice(buf.GetPosition(1, pos.Value));
                if (data) { if (text == ".\r") { data = false; output.Write(Ok); } continue; }
                if (text.StartsWith("DATA", StringComparison.OrdinalIgnoreCase)) { data = true; output.Write(Go); }
                else if (text.StartsWith("QUIT", StringComparison.OrdinalIgnoreCase)) { output.Write(Bye); quit = true; break; }
                else output.Write(Ok);
            }
            input.AdvanceTo(buf.Start, buf.End);
            await output.FlushAsync();
            if (quit || r.IsCompleted) return;
        }
    }
}

static class SocketFloor
{
    public static async Task RunAsync(int port)
    {
        using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port));
        listener.Listen(512);
        while (true)
        {
            var socket = await listener.AcceptAsync();
            _ = Task.Run(() => ServeAsync(socket));
        }
    }

    static readonly byte[] Greet = "220 x ESMTP\r\n"u8.ToArray(), Ok = "250 ok\r\n"u8.ToArray(), Go = "354 go\r\n"u8.ToArray(), Bye = "221 bye\r\n"u8.ToArray();

    static async Task ServeAsync(System.Net.Sockets.Socket socket)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        var reply = new ArrayBufferWriter<byte>(256);
        try
        {
            await socket.SendAsync(Greet);
            bool data = false, quit = false;
            int kept = 0;
            while (!quit)
            {
                var n = await socket.ReceiveAsync(buffer.AsMemory(kept));
                if (n == 0) return;
                n += kept;
                int start = 0;
                for (int i = 0; i < n; i++)
                {
                    if (buffer[i] != (byte)'\n') continue;
                    var line = buffer.AsSpan(start, i - start);
                    start = i + 1;
                    if (data) { if (line.SequenceEqual(".\r"u8)) { data = false; reply.Write(Ok); } continue; }
                    if (line.StartsWith("DATA"u8)) { data = true; reply.Write(Go); }
                    else if (line.StartsWith("QUIT"u8)) { reply.Write(Bye); quit = true; break; }
                    else reply.Write(Ok);
                }
                kept = n - start;
                if (kept == buffer.Length) kept = 0; // a line longer than the buffer: dropped (floor only)
                Buffer.BlockCopy(buffer, start, buffer, 0, kept);
                if (reply.WrittenCount > 0) { await socket.SendAsync(reply.WrittenMemory); reply.Clear(); }
            }
        }
        catch (System.Net.Sockets.SocketException) { }
        finally { ArrayPool<byte>.Shared.Return(buffer); socket.Dispose(); }
    }
}
