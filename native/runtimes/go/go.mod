module tresty/runtimes

go 1.19
