using MailCluster.Queue.Buckets;
using MailCluster.Queue.Protocol;
using MailCluster.Queue.Spool;
using MailCluster.Queue.Sweep;
using Xunit;

namespace MailCluster.Queue.Tests.Sweep;

public sealed class OrphanSweepPlanTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DomainBuckets Split = new(new Dictionary<string, int> { ["hot.test"] = 2 });

    private static AgedBody Body(string id, params string[] domains) => new(id, T0, domains);

    private static SweepAnswers Answer(IEnumerable<FindHeldMessages> questions, Func<FindHeldMessages, IEnumerable<string>?> held)
    {
        var answers = new SweepAnswers();
        foreach (var q in questions)
        {
            answers.Record(q, held(q) is { } ids ? new HeldMessages(q.Domain, [.. ids]) : null);
        }

        return answers;
    }

    [Fact]
    public void One_question_per_entity_of_each_domain_about_all_its_ids()
    {
        var bodies = new[] { Body("M1", "a.test", "hot.test"), Body("M2", "a.test"), Body("M3") };

        var questions = OrphanSweepPlan.Questions(bodies, Split);

        Assert.Equal(
            [("a.test", "M1,M2"), ("hot.test", "M1"), ("hot.test#0", "M1"), ("hot.test#1", "M1")],
            questions.Select(q => (q.Domain, string.Join(',', q.MessageIds))));
    }

    [Fact]
    public void Long_id_lists_are_split_so_that_no_question_passes_the_budget()
    {
        var bodies = Enumerable.Range(0, 10).Select(i => Body($"ID{i:00000}", "a.test")).ToList(); // 7 characters each

        var questions = OrphanSweepPlan.Questions(bodies, DomainBuckets.None, maxIdChars: 21);

        Assert.Equal([3, 3, 3, 1], questions.Select(q => q.MessageIds.Count));
        Assert.Equal(bodies.Select(b => b.MessageId), questions.SelectMany(q => q.MessageIds));
    }

    [Fact]
    public void Committed_references_no_queue_holds_are_released_and_held_ones_kept()
    {
        var bodies = new[] { Body("M1", "a.test", "b.test"), Body("M2", "a.test") };
        var questions = OrphanSweepPlan.Questions(bodies, DomainBuckets.None);
        var answers = Answer(questions, q => q.Domain == "a.test" ? ["M2"] : []);

        var decision = OrphanSweepPlan.Decide(bodies, committed: true, answers, DomainBuckets.None);

        Assert.Equal([new SpoolReference("M1", "a.test"), new SpoolReference("M1", "b.test")], decision.Release);
        Assert.Empty(decision.Delete);
        Assert.Equal((1, 0), (decision.Held, decision.Undecided));
    }

    [Fact]
    public void A_domain_whose_queue_did_not_answer_is_left_alone()
    {
        var bodies = new[] { Body("M1", "a.test", "silent.test"), Body("M2", "silent.test") };
        var questions = OrphanSweepPlan.Questions(bodies, DomainBuckets.None);
        var answers = Answer(questions, q => q.Domain == "silent.test" ? null : []);

        var decision = OrphanSweepPlan.Decide(bodies, committed: true, answers, DomainBuckets.None);

        Assert.Equal([new SpoolReference("M1", "a.test")], decision.Release);
        Assert.Equal((0, 2), (decision.Held, decision.Undecided));
        Assert.Equal(["silent.test"], answers.Silent);
    }

    [Fact]
    public void A_split_domain_is_released_only_when_the_domain_and_every_bucket_said_no()
    {
        var bodies = new[] { Body("M1", "hot.test"), Body("M2", "hot.test"), Body("M3", "hot.test") };
        var questions = OrphanSweepPlan.Questions(bodies, Split);

        // M1 is held by bucket 1, M2 by the unsplit entity (queued before the split), M3 by nobody.
        var answers = Answer(questions, q => q.Domain switch
        {
            "hot.test#1" => ["M1"],
            "hot.test" => ["M2"],
            _ => [],
        });
        Assert.Equal([new SpoolReference("M3", "hot.test")], OrphanSweepPlan.Decide(bodies, committed: true, answers, Split).Release);

        // One bucket silent: nothing of the domain is released, whatever the others said.
        var partial = Answer(questions, q => q.Domain == "hot.test#0" ? null : []);
        var decision = OrphanSweepPlan.Decide(bodies, committed: true, partial, Split);
        Assert.Empty(decision.Release);
        Assert.Equal(3, decision.Undecided);
    }

    [Fact]
    public void An_answer_from_another_entity_or_about_other_ids_decides_nothing()
    {
        var bodies = new[] { Body("M1", "a.test") };
        var answers = new SweepAnswers();
        answers.Record(new FindHeldMessages("a.test", ["M1"]), new HeldMessages("b.test", []));
        Assert.Equal(Holding.Unknown, answers.Holder("M1", ["a.test"]));
        Assert.Empty(OrphanSweepPlan.Decide(bodies, committed: true, answers, DomainBuckets.None).Release);

        var other = new SweepAnswers();
        other.Record(new FindHeldMessages("a.test", ["M9"]), new HeldMessages("a.test", []));
        Assert.Equal(Holding.Unknown, other.Holder("M1", ["a.test"]));
        Assert.Equal(Holding.No, other.Holder("M9", ["a.test"]));
    }

    [Fact]
    public void Uncommitted_bodies_are_deleted_only_when_every_domain_answered_and_none_holds_them()
    {
        var bodies = new[]
        {
            Body("orphan", "a.test", "b.test"),
            Body("abandoning", "a.test", "b.test"), // b.test still holds it (waiting out the commit grace)
            Body("unasked", "a.test", "silent.test"),
            Body("no-references"),
        };
        var questions = OrphanSweepPlan.Questions(bodies, DomainBuckets.None);
        var answers = Answer(questions, q => q.Domain switch
        {
            "b.test" => ["abandoning"],
            "silent.test" => null,
            _ => [],
        });

        var decision = OrphanSweepPlan.Decide(bodies, committed: false, answers, DomainBuckets.None);

        Assert.Equal(["orphan", "no-references"], decision.Delete);
        Assert.Empty(decision.Release); // an uncommitted body goes whole, references with it
        Assert.Equal((1, 1), (decision.Held, decision.Undecided));
    }
}
