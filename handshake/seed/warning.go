package seed

// Warning is the line the CLI, reports and logs show wherever the seed
// profile is selected.
const Warning = "seed profile: INSECURE BY DESIGN, kept to reproduce the seed discussion's weaknesses: " +
	"the server is not authenticated, the device ID travels in plaintext, the device adds no freshness " +
	"and its \"public\" key is the only secret. Do not deploy."
