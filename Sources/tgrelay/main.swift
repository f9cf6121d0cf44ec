print("tgrelay")
