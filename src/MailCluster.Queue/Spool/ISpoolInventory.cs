namespace MailCluster.Queue.Spool;

/// <summary>
/// What the orphan sweep (<see cref="Sweep.OrphanSweep"/>) reads from the spool: bodies older than a minimum age with
/// the domains that still reference them, page by page in (created, id) order. A page holds at most <c>limit</c> bodies
/// (and every reference of each), so memory stays bounded however large the spool; the age is measured with the clock
/// that stamped the rows (the database's for PostgreSQL, so node clocks do not matter). Both listings are read-only
/// and never block writers.
/// </summary>
public interface ISpoolInventory
{
    /// <summary>Committed bodies created more than <paramref name="minAge"/> ago, each with its remaining references.</summary>
    /// <param name="after">The <see cref="AgedBodyPage.Next"/> of the previous page; null for the first.</param>
    Task<AgedBodyPage> ListOldReferencesAsync(TimeSpan minAge, SpoolAgeCursor? after, int limit, CancellationToken cancellationToken);

    /// <summary>Uncommitted bodies created more than <paramref name="minAge"/> ago (acceptance failed and its clean-up
    /// too), each with its references (possibly none).</summary>
    Task<AgedBodyPage> ListOldUncommittedAsync(TimeSpan minAge, SpoolAgeCursor? after, int limit, CancellationToken cancellationToken);
}

/// <summary>Where a listing goes on: the last body of the previous page.</summary>
public sealed record SpoolAgeCursor(DateTimeOffset CreatedAt, string MessageId);

/// <param name="Domains">The domains whose references to the body remain (lower-case), in ordinal order.</param>
public sealed record AgedBody(string MessageId, DateTimeOffset CreatedAt, IReadOnlyList<string> Domains);

/// <param name="Next">The cursor for the next page, or null when this page is the last.</param>
public sealed record AgedBodyPage(IReadOnlyList<AgedBody> Bodies, SpoolAgeCursor? Next)
{
    public static readonly AgedBodyPage Empty = new([], null);

    /// <summary>Builds a page from rows of (id, created, domain or null) ordered by created, id, domain; a full page
    /// (<paramref name="limit"/> bodies) may have more after it.</summary>
    internal static AgedBodyPage FromRows(IEnumerable<(string MessageId, DateTimeOffset CreatedAt, string? Domain)> rows, int limit)
    {
        var bodies = new List<AgedBody>();
        List<string>? domains = null;
        (string Id, DateTimeOffset At)? current = null;
        foreach (var (id, at, domain) in rows)
        {
            if (current is not { } c || !string.Equals(c.Id, id, StringComparison.Ordinal))
            {
                Flush();
                current = (id, at);
                domains = [];
            }

            if (domain is not null)
            {
                domains!.Add(domain);
            }
        }

        Flush();
        return new AgedBodyPage(bodies, bodies.Count >= limit ? new SpoolAgeCursor(bodies[^1].CreatedAt, bodies[^1].MessageId) : null);

        void Flush()
        {
            if (current is { } done)
            {
                bodies.Add(new AgedBody(done.Id, done.At, domains!));
            }
        }
    }
}
