using MailCluster.Queue.Buckets;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Spool;

namespace MailCluster.Queue.Sweep;

/// <summary>
/// The pure half of the orphan sweep: which domain queues to ask about a page of old spool bodies, and, given their
/// answers, which references to release and which uncommitted bodies to delete. The rules that keep mail safe:
/// <list type="number">
/// <item>Only a domain whose entities are all known is looked at: the domain, its configured buckets and every bucket
/// of it found running on any node (<see cref="QueueEntities"/>), which covers the buckets left above a lowered count.
/// A domain whose discovery was incomplete (a node or the coordinator did not answer) is absent from the entity map:
/// it is neither asked about nor decided.</item>
/// <item>A reference is "un-held" only when EVERY one of those entities answered and none holds the message; an
/// entity that did not answer leaves its domain's references alone.</item>
/// <item>Un-held is not yet orphaned: it must have been un-held in the previous run too (<see cref="SweepSuspects"/>).
/// A bucket can be briefly not running (a shard being handed off or rebalanced, a node just restarted whose remembered
/// shards are not placed yet), so discovery can miss it once; a run later it runs again and answers "held".</item>
/// </list>
/// </summary>
public static class OrphanSweepPlan
{
    /// <summary>Id characters per question: well inside Akka's remoting frame (128,000 bytes) once serialised.</summary>
    public const int MaxIdCharsPerQuestion = 32_000;

    /// <summary>One question per entity that may hold each domain's mail (<paramref name="entities"/>), about every
    /// id of that domain in the page (split into several when the ids pass <paramref name="maxIdChars"/>). Domains in
    /// ordinal order; a domain missing from <paramref name="entities"/> (incomplete discovery) is not asked about.</summary>
    public static IReadOnlyList<FindHeldMessages> Questions(
        IReadOnlyList<AgedBody> bodies, IReadOnlyDictionary<string, IReadOnlyList<string>> entities, int maxIdChars = MaxIdCharsPerQuestion)
    {
        ArgumentNullException.ThrowIfNull(bodies);
        ArgumentNullException.ThrowIfNull(entities);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxIdChars);
        var idsByDomain = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var body in bodies)
        {
            foreach (var domain in body.Domains.Where(entities.ContainsKey))
            {
                if (!idsByDomain.TryGetValue(domain, out var ids))
                {
                    idsByDomain[domain] = ids = [];
                }

                ids.Add(body.MessageId);
            }
        }

        var questions = new List<FindHeldMessages>();
        foreach (var (domain, ids) in idsByDomain)
        {
            foreach (var chunk in Chunks(ids, maxIdChars))
            {
                questions.AddRange(entities[domain].Select(entity => new FindHeldMessages(entity, chunk)));
            }
        }

        return questions;
    }

    /// <summary>
    /// For committed bodies (<paramref name="committed"/>): the references no entity holds now nor held in the previous
    /// run (<paramref name="suspects"/>). For uncommitted ones: the bodies whose every domain answered and none holds
    /// them (a body without references at all included), now and in the previous run; such a body was never answered
    /// 250 (its commit never happened), so deleting it loses nothing even if a late Enqueued turns up: that queue finds
    /// the body missing and abandons the message, as after any failed acceptance. What is un-held for the first time
    /// is recorded in <paramref name="suspects"/> for the next run.
    /// </summary>
    public static SweepDecision Decide(
        IReadOnlyList<AgedBody> bodies, bool committed, SweepAnswers answers, IReadOnlyDictionary<string, IReadOnlyList<string>> entities, SweepSuspects suspects)
    {
        ArgumentNullException.ThrowIfNull(bodies);
        ArgumentNullException.ThrowIfNull(answers);
        ArgumentNullException.ThrowIfNull(entities);
        ArgumentNullException.ThrowIfNull(suspects);
        var release = new List<SpoolReference>();
        var delete = new List<string>();
        int held = 0, undecided = 0, suspected = 0, skipped = 0;
        foreach (var body in bodies)
        {
            var orphan = true;
            foreach (var domain in body.Domains)
            {
                if (!entities.TryGetValue(domain, out var ofDomain))
                {
                    skipped++;
                    orphan = false;
                    continue;
                }

                switch (answers.Holder(body.MessageId, ofDomain))
                {
                    case Holding.No when committed:
                        var reference = new SpoolReference(body.MessageId, domain);
                        if (suspects.Confirm(reference))
                        {
                            release.Add(reference);
                        }
                        else
                        {
                            suspected++;
                        }

                        break;
                    case Holding.No:
                        break;
                    case Holding.Yes:
                        held++;
                        orphan = false;
                        break;
                    default:
                        undecided++;
                        orphan = false;
                        break;
                }
            }

            if (!committed && orphan)
            {
                if (suspects.Confirm(SweepSuspects.WholeBody(body.MessageId)))
                {
                    delete.Add(body.MessageId);
                }
                else
                {
                    suspected++;
                }
            }
        }

        return new SweepDecision(release, delete, held, undecided) { Suspected = suspected, Skipped = skipped };
    }

    private static IEnumerable<IReadOnlyList<string>> Chunks(List<string> ids, int maxChars)
    {
        var chunk = new List<string>();
        var chars = 0;
        foreach (var id in ids)
        {
            if (chunk.Count > 0 && chars + id.Length > maxChars)
            {
                yield return chunk;
                chunk = [];
                chars = 0;
            }

            chunk.Add(id);
            chars += id.Length;
        }

        if (chunk.Count > 0)
        {
            yield return chunk;
        }
    }
}

/// <summary>One domain's reference to a spool body.</summary>
public sealed record SpoolReference(string MessageId, string Domain);

/// <param name="Release">References of committed bodies that no queue holds, nor held in the previous run.</param>
/// <param name="Delete">Uncommitted bodies that no queue holds, nor held in the previous run.</param>
/// <param name="Held">References whose queue still holds the message (left alone).</param>
/// <param name="Undecided">References left alone because a queue of their domain did not answer.</param>
public sealed record SweepDecision(IReadOnlyList<SpoolReference> Release, IReadOnlyList<string> Delete, int Held, int Undecided)
{
    /// <summary>References (and uncommitted bodies) un-held for the first time: kept until the next run confirms.</summary>
    public int Suspected { get; init; }

    /// <summary>References left alone because their domain's bucket discovery was incomplete.</summary>
    public int Skipped { get; init; }
}

public enum Holding
{
    /// <summary>Some entity that may hold the message did not answer (or was not asked about it).</summary>
    Unknown,
    No,
    Yes,
}

/// <summary>The answers of one page's questions: per entity, which asked ids it holds, or that it did not answer.</summary>
public sealed class SweepAnswers
{
    private readonly Dictionary<string, Dictionary<string, bool>> _answered = new(StringComparer.Ordinal);
    private readonly HashSet<string> _silent = new(StringComparer.Ordinal);

    /// <summary>Entities that did not answer some question of this page.</summary>
    public IReadOnlyCollection<string> Silent => _silent;

    /// <summary>Records <paramref name="answer"/> to <paramref name="question"/>; null (or an answer from another entity)
    /// means the entity did not answer.</summary>
    public void Record(FindHeldMessages question, HeldMessages? answer)
    {
        ArgumentNullException.ThrowIfNull(question);
        if (answer is null || !string.Equals(answer.Domain, question.Queue.EntityId, StringComparison.Ordinal))
        {
            _silent.Add(question.Queue.EntityId);
            return;
        }

        if (!_answered.TryGetValue(question.Queue.EntityId, out var ids))
        {
            _answered[question.Queue.EntityId] = ids = new Dictionary<string, bool>(StringComparer.Ordinal);
        }

        var held = answer.MessageIds.ToHashSet(StringComparer.Ordinal);
        foreach (var id in question.MessageIds)
        {
            ids[id] = held.Contains(id);
        }
    }

    /// <summary>Whether any of <paramref name="entities"/> holds <paramref name="messageId"/>: Yes as soon as one does;
    /// No only when every one answered about it and none does.</summary>
    public Holding Holder(string messageId, IReadOnlyList<string> entities)
    {
        ArgumentNullException.ThrowIfNull(entities);
        var known = true;
        foreach (var entity in entities)
        {
            if (_answered.TryGetValue(entity, out var ids) && ids.TryGetValue(messageId, out var holds))
            {
                if (holds)
                {
                    return Holding.Yes;
                }
            }
            else
            {
                known = false;
            }

            if (_silent.Contains(entity))
            {
                known = false;
            }
        }

        return known ? Holding.No : Holding.Unknown;
    }
}
