namespace MailCluster.Queue.Delivery;

/// <summary>
/// The node's connector as the domain queues use it: every connection to a destination domain first waits for one of
/// the domain's slots (<see cref="DomainShaping.MaxConnections"/>, shared through <see cref="DestinationGates"/> by all
/// the queues of the domain, i.e. all its buckets) and holds it until it is disposed; every message takes a start of
/// the domain's rate (<see cref="DomainShaping.RatePerMinute"/>) before it is sent. A connection that fails to open
/// gives its slot back at once.
/// <para>With <paramref name="cluster"/> (issue 19), the limits hold across nodes too: once the node's own slot is
/// free, the connection also waits for a lease of the domain's gate entity (one per cluster), and each message for a
/// start of the gate's rate; the node's slot comes first, so only the connection about to open asks the gate.</para>
/// <para>The caller must dispose every connection it gets (the slot is held until then) and should cancel a
/// <see cref="ConnectAsync"/> it no longer waits for: the wait for a slot may be long.</para>
/// </summary>
public sealed class GatedConnector(IDeliveryConnector inner, DestinationGates gates, Gates.ClusterGates? cluster = null) : IDeliveryConnector
{
    public async Task<ConnectResult> ConnectAsync(string domain, CancellationToken cancellationToken)
    {
        var shaping = inner.ShapingFor(domain);
        var slot = await gates.OpenAsync(domain, shaping.MaxConnections, cancellationToken).ConfigureAwait(false);
        try
        {
            if (cluster is not null)
            {
                slot = new Both(await cluster.LeaseAsync(domain, shaping.MaxConnections, cancellationToken).ConfigureAwait(false), slot);
            }

            var result = await inner.ConnectAsync(domain, cancellationToken).ConfigureAwait(false);
            if (result.Connection is not { } connection)
            {
                slot.Dispose();
                return result;
            }

            return ConnectResult.Opened(new GatedConnection(connection, slot, gates, cluster, domain, shaping.RatePerMinute));
        }
        catch
        {
            slot.Dispose();
            throw;
        }
    }

    public DomainShaping ShapingFor(string domain) => inner.ShapingFor(domain);

    /// <summary>The gate's lease and the node's slot, given back in that order.</summary>
    private sealed class Both(IDisposable lease, IDisposable slot) : IDisposable
    {
        public void Dispose()
        {
            lease.Dispose();
            slot.Dispose();
        }
    }

    private sealed class GatedConnection(IDeliveryConnection inner, IDisposable slot, DestinationGates gates, Gates.ClusterGates? cluster, string domain, int? ratePerMinute)
        : IDeliveryConnection
    {
        public string RemoteMta => inner.RemoteMta;

        public string? TlsProtocol => inner.TlsProtocol;

        public bool IsUsable => inner.IsUsable;

        public async Task<DeliveryResult> SendAsync(DeliveryRequest request, CancellationToken cancellationToken)
        {
            await gates.StartAsync(domain, ratePerMinute, cancellationToken).ConfigureAwait(false);
            if (cluster is not null)
            {
                await cluster.StartAsync(domain, ratePerMinute, cancellationToken).ConfigureAwait(false);
            }

            return await inner.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                await inner.DisposeAsync().ConfigureAwait(false);
            }
            finally
            {
                slot.Dispose(); // after QUIT: the destination never sees more connections than the cap
            }
        }
    }
}
