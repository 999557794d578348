using System.Globalization;

namespace GpuInfo.Corpus;

/// <summary>
/// The shard a scheduler gave this process, from its environment variables, in this order:
/// a Slurm job array (SLURM_ARRAY_TASK_ID with SLURM_ARRAY_TASK_MIN/MAX/STEP or SLURM_ARRAY_TASK_COUNT),
/// Slurm tasks (SLURM_PROCID of SLURM_NTASKS), a Kubernetes Indexed Job (JOB_COMPLETION_INDEX; the
/// count must be given, Kubernetes sets none), then torchrun-style RANK of WORLD_SIZE.
/// </summary>
public static class SchedulerShard
{
    /// <summary>Resolves the shard from <paramref name="environment"/> (null: this process's variables).</summary>
    /// <param name="shards">The shard count when the scheduler does not say (Kubernetes), or a check on the one it says.</param>
    /// <param name="shard">The shard found.</param>
    /// <param name="explanation">Which variables gave it, or why none could.</param>
    /// <returns>False when no scheduler variables are set, they are malformed, or they disagree with each other or <paramref name="shards"/>.</returns>
    public static bool TryResolve(IReadOnlyDictionary<string, string>? environment, int? shards, out Shard shard, out string explanation)
    {
        var env = environment ?? Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? string.Empty, StringComparer.Ordinal);
        shard = Shard.All;
        try
        {
            (int index, int count, explanation) = Find(env, shards);
            if (shards is int n && n != count)
            {
                explanation = $"--shards {n} disagrees with {explanation}";
                return false;
            }

            if (count < 1 || index < 0 || index >= count)
            {
                explanation = $"{explanation} is not a shard (need 0 <= index < count)";
                return false;
            }

            shard = new Shard(index, count);
            explanation = $"shard {shard} from {explanation}";
            return true;
        }
        catch (FormatException e)
        {
            explanation = e.Message;
            return false;
        }
    }

    private static (int Index, int Count, string Explanation) Find(IReadOnlyDictionary<string, string> env, int? shards)
    {
        if (env.ContainsKey("SLURM_ARRAY_TASK_ID"))
        {
            int id = Int(env, "SLURM_ARRAY_TASK_ID");
            if (env.ContainsKey("SLURM_NTASKS") && Int(env, "SLURM_NTASKS") > 1)
            {
                throw new FormatException($"SLURM_ARRAY_TASK_ID={id} and SLURM_NTASKS={env["SLURM_NTASKS"]} are both set: run one task per array element, or use --shard i/n");
            }

            int min = env.ContainsKey("SLURM_ARRAY_TASK_MIN") ? Int(env, "SLURM_ARRAY_TASK_MIN") : 0;
            int step = env.ContainsKey("SLURM_ARRAY_TASK_STEP") ? Int(env, "SLURM_ARRAY_TASK_STEP") : 1;
            int? fromMax = env.ContainsKey("SLURM_ARRAY_TASK_MAX") ? ((Int(env, "SLURM_ARRAY_TASK_MAX") - min) / Math.Max(1, step)) + 1 : null;
            int? fromCount = env.ContainsKey("SLURM_ARRAY_TASK_COUNT") ? Int(env, "SLURM_ARRAY_TASK_COUNT") : null;
            if (fromMax is null && fromCount is null)
            {
                throw new FormatException("SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_MAX nor SLURM_ARRAY_TASK_COUNT is: the array's size is unknown");
            }

            if (fromMax is int a && fromCount is int c && a != c)
            {
                throw new FormatException($"SLURM_ARRAY_TASK_COUNT={c} disagrees with SLURM_ARRAY_TASK_MIN..MAX step {step} ({a} tasks): an irregular array (e.g. --array=1,3,7) cannot be sharded automatically; use --shard i/n");
            }

            if (step < 1 || (id - min) % step != 0)
            {
                throw new FormatException($"SLURM_ARRAY_TASK_ID={id} is not on the array's grid (min {min}, step {step})");
            }

            int count = fromMax ?? fromCount!.Value;
            return ((id - min) / step, count, $"SLURM_ARRAY_TASK_ID={id} (array of {count} from {min}, step {step})");
        }

        if (env.ContainsKey("SLURM_PROCID") || env.ContainsKey("SLURM_NTASKS"))
        {
            int id = Int(env, "SLURM_PROCID"), n = Int(env, "SLURM_NTASKS");
            return (id, n, $"SLURM_PROCID={id} of SLURM_NTASKS={n}");
        }

        if (env.ContainsKey("JOB_COMPLETION_INDEX"))
        {
            int id = Int(env, "JOB_COMPLETION_INDEX");
            if (shards is not int n)
            {
                throw new FormatException($"JOB_COMPLETION_INDEX={id} is set but Kubernetes does not say how many shards there are: pass --shards N (the Job's completions)");
            }

            return (id, n, $"JOB_COMPLETION_INDEX={id} of --shards {n}");
        }

        if (env.ContainsKey("RANK") || env.ContainsKey("WORLD_SIZE"))
        {
            int id = Int(env, "RANK"), n = Int(env, "WORLD_SIZE");
            return (id, n, $"RANK={id} of WORLD_SIZE={n}");
        }

        throw new FormatException("--shard auto found no scheduler variables (SLURM_ARRAY_TASK_ID, SLURM_PROCID, JOB_COMPLETION_INDEX or RANK); use --shard i/n");
    }

    private static int Int(IReadOnlyDictionary<string, string> env, string name) =>
        !env.TryGetValue(name, out var text) ? throw new FormatException($"{name} is not set")
        : int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) ? v
        : throw new FormatException($"{name}='{text}' is not an integer");
}
