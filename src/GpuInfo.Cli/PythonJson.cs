using System.Text;

namespace GpuInfo.Cli;

/// <summary>
/// JSON as Python's <c>json.dumps</c> writes it, which is JSON but for floats that are not finite: <c>NaN</c>,
/// <c>Infinity</c> and <c>-Infinity</c>, bare (lm-evaluation-harness's samples log a -inf log-likelihood so).
/// </summary>
internal static class PythonJson
{
    /// <summary>The text with those three literals, outside strings, written as strings ("-Infinity"), which <c>double.Parse</c> reads.</summary>
    public static string QuoteLiterals(string json)
    {
        if (!json.Contains("NaN", StringComparison.Ordinal) && !json.Contains("Infinity", StringComparison.Ordinal))
        {
            return json;
        }

        var quoted = new StringBuilder(json.Length + 64);
        bool inString = false;
        for (int i = 0; i < json.Length; i++)
        {
            char c = json[i];
            if (inString)
            {
                quoted.Append(c);
                if (c == '\\' && i + 1 < json.Length)
                {
                    quoted.Append(json[++i]);
                }
                else if (c == '"')
                {
                    inString = false;
                }

                continue;
            }

            string? literal = json.AsSpan(i).StartsWith("-Infinity") ? "-Infinity" : json.AsSpan(i).StartsWith("Infinity") ? "Infinity" : json.AsSpan(i).StartsWith("NaN") ? "NaN" : null;
            if (literal is not null)
            {
                quoted.Append('"').Append(literal).Append('"');
                i += literal.Length - 1;
                continue;
            }

            inString = c == '"';
            quoted.Append(c);
        }

        return quoted.ToString();
    }
}
