// Built and run by make_loglikelihood_reference.py (g++ -std=c++17: libstdc++, as a Linux build of llama.cpp):
// llama.cpp's hellaswag task selection (perplexity.cpp): std::mt19937 rng(1), and for each task taken
// std::uniform_int_distribution<size_t>(0, remaining - 1)(rng), the task at that index of those left.
#include <cstdio>
#include <random>
#include <vector>
#include <cstdlib>
int main(int argc, char** argv) {
    size_t total = std::strtoul(argv[1], nullptr, 10), count = std::strtoul(argv[2], nullptr, 10);
    std::vector<size_t> left(total);
    for (size_t i = 0; i < total; ++i) left[i] = i;
    std::mt19937 rng(1);
    for (size_t i = 0; i < count; ++i) {
        std::uniform_int_distribution<size_t> dist(0, left.size() - 1);
        size_t idx = dist(rng);
        std::printf("%s%zu", i ? " " : "", left[idx]);
        left.erase(left.begin() + idx);
    }
    std::printf("\n");
}
