// Signal names as `kill` accepts them: runc's and kill(1)'s spellings, and their limits.
#include <gtest/gtest.h>
#include <signal.h>

#include "sys/signals.h"

namespace mydocker::sys {
namespace {

struct Case {
    const char* input;
    int expected;
};

TEST(ParseSignal, AcceptsNamesNumbersAndRealtimeForms) {
    const Case cases[] = {
        {"TERM", SIGTERM},
        {"SIGTERM", SIGTERM},
        {"sigterm", SIGTERM},
        {"Term", SIGTERM},
        {"15", SIGTERM},
        {"9", SIGKILL},
        {"KILL", SIGKILL},
        {"SIGHUP", SIGHUP},
        {"int", SIGINT},
        {"SIGUSR1", SIGUSR1},
        {"usr2", SIGUSR2},
        {"SIGCHLD", SIGCHLD},
        {"SIGWINCH", SIGWINCH},
        {"SIGSTKFLT", SIGSTKFLT},
        {"SIGPWR", SIGPWR},
        {"SIGSYS", SIGSYS},
        {"SIGIOT", SIGABRT},
        {"CLD", SIGCHLD},
        {"SIGPOLL", SIGIO},
        {"SIGRTMIN", SIGRTMIN},
        {"RTMIN+3", SIGRTMIN + 3},
        {"sigrtmin+0", SIGRTMIN},
        {"SIGRTMAX-2", SIGRTMAX - 2},
        {"rtmax", SIGRTMAX},
        {"RTMIN+30", SIGRTMIN + 30},
        {"64", 64},
        {"1", 1},
    };
    for (const auto& c : cases) {
        auto r = parse_signal(c.input);
        ASSERT_TRUE(r.has_value()) << c.input << ": " << r.error().message();
        EXPECT_EQ(*r, c.expected) << c.input;
    }
}

TEST(ParseSignal, RejectsUnknownAndOutOfRange) {
    const char* bad[] = {"FOO",    "",         "SIG",      "0",        "65",         "-1",
                         "+15",    "15x",      " TERM",    "SIGTERMX", "RTMIN-1",    "RTMAX+1",
                         "RTMIN+", "RTMIN+31", "RTMIN++1", "RTMAX--1", "SIGSIGTERM", "99999999999"};
    for (const char* s : bad) {
        auto r = parse_signal(s);
        ASSERT_FALSE(r.has_value()) << "accepted \"" << s << "\" as " << *r;
        EXPECT_EQ(r.error().code(), ErrorCode::invalid_argument) << s;
        EXPECT_EQ(r.error().message(), std::string("unknown signal \"") + s + "\"");
    }
}

TEST(SignalName, GivesThePrimaryName) {
    EXPECT_EQ(signal_name(SIGTERM), "SIGTERM");
    EXPECT_EQ(signal_name(SIGKILL), "SIGKILL");
    EXPECT_EQ(signal_name(SIGABRT), "SIGABRT");  // not the alias SIGIOT
    EXPECT_EQ(signal_name(SIGCHLD), "SIGCHLD");
    EXPECT_EQ(signal_name(SIGIO), "SIGIO");
    EXPECT_EQ(signal_name(SIGRTMIN), "SIGRTMIN");
    EXPECT_EQ(signal_name(SIGRTMIN + 3), "SIGRTMIN+3");
    EXPECT_EQ(signal_name(SIGRTMAX - 2), "SIGRTMAX-2");
    EXPECT_EQ(signal_name(SIGRTMAX), "SIGRTMAX");
    EXPECT_EQ(signal_name(32), "32");  // glibc-internal, no name
}

TEST(SignalName, RoundTripsThroughParse) {
    for (int sig = 1; sig <= SIGRTMAX; ++sig) {
        auto r = parse_signal(signal_name(sig));
        ASSERT_TRUE(r.has_value()) << signal_name(sig);
        EXPECT_EQ(*r, sig) << signal_name(sig);
    }
}

}  // namespace
}  // namespace mydocker::sys
