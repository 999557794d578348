// Built and run by make_loglikelihood_reference.py (g++ -std=c++17: libstdc++, as a Linux build of llama.cpp):
// the tasks llama-perplexity draws (tools/perplexity/perplexity.cpp), printed as their indices in the file.
//   hellaswag TOTAL COUNT: std::mt19937 rng(1), and for each task taken std::uniform_int_distribution<size_t>(0,
//     remaining - 1)(rng), the task at that index of those left (hellaswag_score).
//   multiple-choice TOTAL COUNT: std::mt19937 rng(1), scale = 1/(1 + max) in float, and for each task
//     j = (int)(scale * rng() * left), the task at j of those left, replaced by the last (multiple_choice_score).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>
int main(int argc, char** argv) {
    size_t total = std::strtoul(argv[2], nullptr, 10), count = std::strtoul(argv[3], nullptr, 10);
    std::vector<int> left(total);
    for (size_t i = 0; i < total; ++i) left[i] = (int) i;
    std::mt19937 rng(1);
    if (std::strcmp(argv[1], "hellaswag") == 0) {
        for (size_t i = 0; i < count; ++i) {
            std::uniform_int_distribution<size_t> dist(0, left.size() - 1);
            size_t idx = dist(rng);
            std::printf("%s%d", i ? " " : "", left[idx]);
            left.erase(left.begin() + idx);
        }
    } else {
        float scale = 1.f/(1.f + (float)std::mt19937::max());
        for (size_t i = 0; i < count; ++i) {
            int j = (int)(scale * rng() * left.size());
            std::printf("%s%d", i ? " " : "", left[j]);
            left[j] = left.back();
            left.pop_back();
        }
    }
    std::printf("\n");
}
