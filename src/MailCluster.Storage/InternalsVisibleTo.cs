using System.Runtime.CompilerServices;

// The spool tests open the SQLite store's own connections (to check its PRAGMAs) and count its checkpoints.
[assembly: InternalsVisibleTo("MailCluster.Queue.Tests")]
