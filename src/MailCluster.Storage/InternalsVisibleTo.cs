using System.Runtime.CompilerServices;

// The spool tests open the SQLite store's own connections (to check its PRAGMAs) and count its checkpoints; the
// orphan-sweep tests age bodies in the SQLite file.
[assembly: InternalsVisibleTo("MailCluster.Storage.Tests")]
[assembly: InternalsVisibleTo("MailCluster.Queue.Tests")]
