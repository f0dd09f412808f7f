using System.Net;
using System.Net.Sockets;

namespace MailCluster.Testing;

/// <summary>Finds loopback ports that are free right now. Another process may still take one before it is used.</summary>
public static class FreePort
{
    /// <summary>A port free for TCP on 127.0.0.1.</summary>
    public static int Tcp()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A port free for both TCP and UDP on 127.0.0.1 (what a DNS server needs).</summary>
    public static int TcpAndUdp()
    {
        for (int attempt = 0; attempt < 50; attempt++)
        {
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            int port = ((IPEndPoint)udp.LocalEndPoint!).Port;
            using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                tcp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException)
            {
                // Taken for TCP: try another one.
            }
        }

        throw new InvalidOperationException("no loopback port is free for both TCP and UDP");
    }
}
