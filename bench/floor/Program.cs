using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;

// A minimal SMTP responder on Kestrel for bench/floor.sh: greets, answers 250 to every command, 354 to DATA, 250 after
// the terminating dot and 221 to QUIT. No parsing, no queue: what is left is Kestrel's cost per connection and per read.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
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
