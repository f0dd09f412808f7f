namespace MailCluster.Queue.Gates;

/// <summary>Every message of the destination gates that crosses nodes (serialised by <see cref="GateSerializer"/>).</summary>
public interface IGateMessage;

/// <summary>A message for the gate entity of <see cref="Domain"/> (the destination domain, never a bucket).</summary>
public interface IGateCommand : IGateMessage
{
    string Domain { get; }
}

/// <summary>Asks for a connection slot; answered, maybe much later, with <see cref="GateGranted"/> to the sender.
/// Re-sent by the holder every renewal interval until granted (the gate may have moved).</summary>
/// <param name="Node">The holder's node (unique address: a restarted node is another node).</param>
public sealed record GateAcquire(string Domain, string LeaseId, string Node, int Cap) : IGateCommand;

public sealed record GateGranted(string Domain, string LeaseId) : IGateMessage;

/// <summary>Gives a lease back, or withdraws a request still waiting.</summary>
public sealed record GateRelease(string Domain, string LeaseId) : IGateCommand;

/// <summary>Every lease <paramref name="Node"/> holds at the domain's gate (possibly none): the renewal, and the answer
/// to a fresh gate's <see cref="GateCensus"/>.</summary>
public sealed record GateRenew(string Domain, string Node, IReadOnlyList<string> LeaseIds) : IGateCommand;

/// <summary>A fresh gate asks each node's client which leases of <paramref name="Domain"/> it holds.</summary>
public sealed record GateCensus(string Domain) : IGateMessage;

/// <summary>Asks for up to <paramref name="Wanted"/> message starts under <paramref name="RatePerMinute"/>.</summary>
public sealed record GateTakeStarts(string Domain, int Wanted, int RatePerMinute) : IGateCommand;

/// <param name="RetryAt">When none were granted: when the next start frees up.</param>
/// <param name="Gate">The gate incarnation that granted them (the node logs its starts under it, see
/// <see cref="NodeStartLog"/>); null from a node of an older release.</param>
public sealed record GateStarts(string Domain, int Count, DateTimeOffset? RetryAt, string? Gate = null) : IGateMessage;

/// <summary>The starts of <paramref name="Domain"/> granted to <paramref name="Node"/> in the last rate window: the
/// answer to a fresh gate's <see cref="GateCensus"/> (sent before the <see cref="GateRenew"/> that completes it), and
/// re-sent every renewal interval while the node has any, so a gate that moved learns its predecessor's window.</summary>
public sealed record GateRecentStarts(string Domain, string Node, IReadOnlyList<RecentStart> Starts) : IGateCommand;

/// <summary><paramref name="Count"/> starts granted by gate incarnation <paramref name="Gate"/> about
/// <paramref name="AgeSeconds"/> ago (rounded down: the receiver counts them a little longer, never shorter).</summary>
public sealed record RecentStart(string Gate, int AgeSeconds, int Count);
