using System.Collections.Concurrent;
using System.Net;

namespace MailCluster.Edge.Policy;

/// <summary>Counts open SMTP connections per node and per client address (RFC 5321 §4.5.3.1: a server may
/// refuse with 421 when overloaded). A refused connection holds no slot. Clients for which <paramref name="exempt"/>
/// holds (the trusted networks, like Postfix's <c>smtpd_client_event_limit_exceptions = $mynetworks</c>: a relay host
/// or an application server behind NAT legitimately opens many connections) are not limited per client; the node
/// total still applies to them.</summary>
public sealed class ConnectionLimiter(int maxTotal, int maxPerClient, Func<IPAddress, bool>? exempt = null)
{
    private readonly ConcurrentDictionary<IPAddress, int> _perClient = new();
    private int _total;

    public int Open => Volatile.Read(ref _total);

    /// <returns>A lease to dispose when the connection ends, or null with the reason it was refused.</returns>
    public IDisposable? TryAcquire(IPAddress? client, out string? refusal) => TryAcquire(client, out refusal, out _);

    /// <returns>A lease to dispose when the connection ends, or null with the reason it was refused (the reply text
    /// in <paramref name="refusal"/>, which limit in <paramref name="reason"/>).</returns>
    public IDisposable? TryAcquire(IPAddress? client, out string? refusal, out ConnectionRefusalReason? reason)
    {
        reason = null;
        if (Interlocked.Increment(ref _total) > maxTotal)
        {
            Interlocked.Decrement(ref _total);
            refusal = "Too many connections, try again later";
            reason = ConnectionRefusalReason.NodeLimit;
            return null;
        }

        if (client is not null && !(exempt?.Invoke(client) ?? false))
        {
            var key = client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client;
            if (_perClient.AddOrUpdate(key, 1, (_, n) => n + 1) > maxPerClient)
            {
                Release(key);
                Interlocked.Decrement(ref _total);
                refusal = $"Too many connections from {key}, try again later";
                reason = ConnectionRefusalReason.ClientLimit;
                return null;
            }

            refusal = null;
            return new Lease(this, key);
        }

        refusal = null;
        return new Lease(this, null);
    }

    private void Release(IPAddress key)
    {
        while (true)
        {
            if (!_perClient.TryGetValue(key, out var n))
            {
                return;
            }

            if (n <= 1 ? _perClient.TryRemove(new KeyValuePair<IPAddress, int>(key, n)) : _perClient.TryUpdate(key, n - 1, n))
            {
                return;
            }
        }
    }

    private sealed class Lease(ConnectionLimiter owner, IPAddress? key) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                if (key is not null)
                {
                    owner.Release(key);
                }

                Interlocked.Decrement(ref owner._total);
            }
        }
    }
}
