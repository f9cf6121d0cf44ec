import Foundation
import Testing
import TGRelayCore

@Suite struct BotAPIMethodsTests {
    @Test func holdsTheWholeSpec() {
        #expect(BotAPIMethods.version == "Bot API 10.1")
        #expect(BotAPIMethods.all.count == 180)
        for name in ["getMe", "getUpdates", "setWebhook", "sendMessage", "answerCallbackQuery", "getChat"] {
            #expect(BotAPIMethods.all.contains(name))
        }
    }

    @Test func sendMethodsAreTheChatAddressingSendsEditsCopiesForwardsAndDeletes() {
        let sends = Set(BotAPIMethods.sendMethods.keys)
        #expect(sends.count == 41)
        for name in [
            "sendMessage", "sendPhoto", "sendMediaGroup", "sendDocument", "sendPoll", "sendChatAction",
            "copyMessage", "copyMessages", "forwardMessage", "forwardMessages", "editMessageText",
            "editMessageCaption", "editMessageReplyMarkup", "deleteMessage", "deleteMessages",
        ] {
            #expect(sends.contains(name), "\(name)")
        }
        // Not sends, or no chat to make a lane of.
        for name in ["getMe", "getUpdates", "answerCallbackQuery", "deleteMessageReaction", "editStory",
                     "editUserStarSubscription", "sendChatJoinRequestWebApp", "setWebhook"] {
            #expect(!sends.contains(name), "\(name)")
        }
        #expect(sends.isSubset(of: BotAPIMethods.all))
        #expect(sends.allSatisfy { $0.hasPrefix("send") || $0.hasPrefix("edit") || $0.hasPrefix("copy")
            || $0.hasPrefix("forward") || $0.hasPrefix("delete") })
    }

    @Test func specsCarryTheLimitsFromTheDocumentation() {
        let specs = BotAPIMethods.sendMethods
        #expect(specs["sendMessage"]?.text == TextLimit(required: true, minimum: 1, maximum: 4096))
        #expect(specs["sendMessage"]?.chatIDRequired == true)
        #expect(specs["editMessageText"]?.text == TextLimit(required: false, minimum: 1, maximum: 4096))
        #expect(specs["editMessageText"]?.chatIDRequired == false)
        #expect(specs["sendPhoto"]?.caption == TextLimit(required: false, minimum: 0, maximum: 1024))
        #expect(specs["sendMediaGroup"]?.mediaCaption == TextLimit(required: false, minimum: 0, maximum: 1024))
        #expect(specs["sendPaidMedia"]?.mediaCaption == nil)
        #expect(specs["sendGift"]?.userIDIsTarget == true)
        #expect(specs["sendMessage"]?.userIDIsTarget == false)
    }

    @Test func lookupIsCaseInsensitive() {
        #expect(BotAPIMethods.canonicalName("sendMessage") == "sendMessage")
        #expect(BotAPIMethods.canonicalName("sendmessage") == "sendMessage")
        #expect(BotAPIMethods.canonicalName("GETME") == "getMe")
        #expect(BotAPIMethods.canonicalName("sendMessages") == nil)
        #expect(BotAPIMethods.isSendMethod("copymessages"))
        #expect(!BotAPIMethods.isSendMethod("getMe"))
        #expect(!BotAPIMethods.isSendMethod("nope"))
    }
}
