using System.Net;
using System.Net.Sockets;

namespace MailCluster.Testing;

/// <summary>
/// Finds loopback ports that are free right now. They are taken below the kernel's ephemeral range
/// (<c>net.ipv4.ip_local_port_range</c>), so that no socket bound to port 0 and no outgoing connection of any process
/// (a node's Akka.Remote, an Npgsql or SMTP client) can be handed the same port between this check and the bind; and
/// a port is handed out at most once per test process. Another process may still bind it explicitly.
/// </summary>
public static class FreePort
{
    private const int Lowest = 10_000;
    private static readonly HashSet<int> HandedOut = [];
    private static readonly int Highest = EphemeralLow() - 1;

    /// <summary>A port free for TCP on 127.0.0.1.</summary>
    public static int Tcp() => Find(udpToo: false);

    /// <summary>A port free for both TCP and UDP on 127.0.0.1 (what a DNS server needs).</summary>
    public static int TcpAndUdp() => Find(udpToo: true);

    private static int Find(bool udpToo)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Random.Shared.Next(Lowest, Highest + 1);
            lock (HandedOut)
            {
                if (HandedOut.Contains(port) || !Bindable(port, SocketType.Stream, ProtocolType.Tcp)
                    || (udpToo && !Bindable(port, SocketType.Dgram, ProtocolType.Udp)))
                {
                    continue;
                }

                HandedOut.Add(port);
                return port;
            }
        }

        throw new InvalidOperationException($"no loopback port between {Lowest} and {Highest} is free");
    }

    private static bool Bindable(int port, SocketType type, ProtocolType protocol)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, type, protocol);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>The first port of the kernel's ephemeral range (Linux default 32768).</summary>
    private static int EphemeralLow()
    {
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            return int.TryParse(range[0], out var low) && low > Lowest + 1000 ? low : 32_768;
        }
        catch (IOException)
        {
            return 32_768;
        }
    }
}
